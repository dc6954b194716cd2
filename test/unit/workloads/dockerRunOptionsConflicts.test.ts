import { strict as assert } from "node:assert";
import { dockerContainerPlan, dockerContainerStep } from "../../../sdk/workloads/dockerContainer";

const image = "nvidia/cuda:12.4.1-base-ubuntu22.04";

/**
 * Options each valid alone that Docker refuses together at `docker run` (after the step has removed the running
 * container, so the service is down) or silently drops: refused at preview, naming the field and the fix (issue 27).
 */
describe("docker run options that conflict: refused before any script exists, naming the field", () => {
    const bad: [string, object, RegExp][] = [
        // docker: "ulimit soft limit must be less than or equal to hard limit"
        [
            "a soft limit above the hard one",
            { ulimits: [{ name: "nofile", soft: 2048, hard: 1024 }] },
            /^GpuConfigError: ulimits\[0\]\.soft: 2048 is above hard \(1024\)/,
        ],
        [
            "unlimited soft under a finite hard",
            { ulimits: [{ name: "memlock", soft: -1, hard: 8388608 }] },
            /ulimits\[0\]\.soft: -1 \(unlimited\) is above hard/,
        ],
        // docker keeps the last of two --ulimit of one name, silently
        [
            "one limit twice",
            {
                ulimits: [
                    { name: "stack", soft: 1, hard: 1 },
                    { name: "stack", soft: 2, hard: 2 },
                ],
            },
            /ulimits\[1\]\.name: "stack" is already set by ulimits\[0\]/,
        ],
        // docker: "invalid IP address" at run
        [
            "an IPv4 address with an octet above 255",
            { ports: [{ internal: 80, ip: "127.0.0.256" }] },
            /ports\[0\]\.ip: "127\.0\.0\.256" is not an IPv4 or IPv6 address/,
        ],
        ["an IPv6 text that is not an address", { ports: [{ internal: 80, ip: ":::1:::" }] }, /ports\[0\]\.ip: ":::1:::"/],
        // docker: "Published ports are discarded when using host network mode" (a warning; the mapping is gone)
        [
            "published ports on the host network",
            { networkMode: "host", ports: [{ internal: 80, external: 8080 }] },
            /^GpuConfigError: ports: published ports are discarded with networkMode host/,
        ],
        // docker: "Duplicate mount point: /data"
        [
            "two mounts on one container path",
            {
                volumes: [
                    { containerPath: "/data", hostPath: "/srv/a" },
                    { containerPath: "/data/", volumeName: "b" },
                ],
            },
            /volumes\[1\]\.containerPath: "\/data\/" is already mounted by volumes\[0\]/,
        ],
        [
            "a tmpfs on a volume's path",
            { volumes: [{ containerPath: "/scratch", volumeName: "s" }], tmpfs: { "/scratch": "size=1m" } },
            /tmpfs\.\/scratch: "\/scratch" is already mounted by volumes\[0\]/,
        ],
        // the same host port twice: docker: "Bind for 0.0.0.0:8080 failed: port is already allocated"
        [
            "one host port published twice",
            {
                ports: [
                    { internal: 80, external: 8080 },
                    { internal: 81, external: 8080 },
                ],
            },
            /ports\[1\]\.external: 8080\/tcp is already published by ports\[0\]/,
        ],
        [
            "overlapping UDP ranges",
            {
                ports: [
                    { internal: 5000, protocol: "udp", count: 10 },
                    { internal: 6000, external: 5009, protocol: "udp" },
                ],
            },
            /ports\[1\]\.external: 5009\/udp is already published by ports\[0\]/,
        ],
        // --shm-size sizes only a container's own /dev/shm; with the host's or another container's IPC it is ignored
        ["shmSize with the host's IPC", { ipcMode: "host", shmSize: 8192 }, /^GpuConfigError: shmSize: is ignored with ipcMode host/],
        ["shmSize with another container's IPC", { ipcMode: "container:db", shmSize: 64 }, /shmSize: is ignored with ipcMode container:db/],
    ];
    for (const [title, options, error] of bad) it(`refuses ${title}`, () => assert.throws(() => dockerContainerStep({ name: "x", image, options }), error));

    it("accepts what Docker accepts: the same port on two protocols or two addresses, soft at or under hard, unlimited both, shm with its own IPC", () => {
        for (const options of [
            { ports: [{ internal: 19302, protocol: "udp" }, { internal: 19302 }] },
            {
                ports: [
                    { internal: 80, ip: "127.0.0.1" },
                    { internal: 80, ip: "127.0.0.2" },
                ],
            },
            {
                ports: [
                    { internal: 80, ip: "::1" },
                    { internal: 80, ip: "0:0:0:0:0:0:0:2" },
                ],
            },
            {
                ulimits: [
                    { name: "memlock", soft: -1, hard: -1 },
                    { name: "stack", soft: 67108864, hard: 67108864 },
                    { name: "nofile", soft: 1024, hard: 4096 },
                ],
            },
            { ipcMode: "shareable", shmSize: 8192, volumes: [{ containerPath: "/data" }, { containerPath: "/data2" }], tmpfs: { "/t": "" } },
            { networkMode: "host" },
        ])
            assert.doesNotThrow(() => dockerContainerStep({ name: "x", image, options: options as never }), JSON.stringify(options));
    });

    it("names the fields as a component calls them (gpuSelection none with capabilities)", () => {
        assert.throws(
            () => dockerContainerPlan({ name: "x", image, mode: "none", driverCapabilities: ["graphics"] }, { mode: "gpuSelection" }),
            /^GpuConfigError: driverCapabilities: is ignored with gpuSelection none/,
        );
        assert.throws(
            () => dockerContainerPlan({ name: "x", image, mode: "none", preset: "render" }, { mode: "gpuSelection" }),
            /^GpuConfigError: preset: is ignored with gpuSelection none/,
        );
        assert.throws(
            () => dockerContainerPlan({ name: "x", image, mode: "none", devices: ["0"] }, { mode: "gpuSelection" }),
            /^GpuConfigError: devices: is ignored with gpuSelection none/,
        );
        assert.doesNotThrow(() => dockerContainerPlan({ name: "x", image, mode: "none", devices: ["all"] }));
    });
});
