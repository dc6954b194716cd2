import { strict as assert } from "node:assert";
import { parseHostFacts } from "../../../sdk/host/hostFacts";
import { probeFixture } from "../../helpers/paths";

describe("parseHostFacts", () => {
    it("reads the real H100 machine (recorded by running sdk/host/probe.sh there): driver 580.159.04, one H100 with its UUID", () => {
        const facts = parseHostFacts(probeFixture("h100-ubuntu2404-root.json"));
        assert.equal(facts.driver.loadedVersion, "580.159.04");
        assert.equal(facts.driver.kernelModule, "open");
        assert.equal(facts.driver.libraryVersion, "580.159.04");
        assert.equal(facts.gpus.length, 1);
        assert.deepEqual(facts.gpus[0], {
            index: 0,
            name: "NVIDIA H100 80GB HBM3",
            uuid: "GPU-90b19bec-097c-6e10-2830-1005b2cfa1ed",
            driverVersion: "580.159.04",
            memoryMiB: 81559,
            computeCapability: "9.0",
            migMode: "Disabled",
            pciBusId: "00000000:00:06.0",
        });
        assert.deepEqual(facts.pciDevices, [{ address: "0000:00:06.0", deviceId: "0x2330", pciClass: "0x030200" }]);
        assert.deepEqual(facts.os, { id: "ubuntu", versionId: "24.04", idLike: ["debian"], prettyName: "Ubuntu 24.04.3 LTS" });
        assert.equal(facts.packageManager, "apt");
        assert.equal(facts.cgroupVersion, 2);
        assert.equal(facts.wsl2, false);
        assert.equal(facts.docker, undefined);
        assert.deepEqual(facts.toolkitPackages, {});
    });

    it("reads the H100's graphics and video facts: Vulkan ICD and EGL vendor files, glcore, NVENC and NVDEC libraries", () => {
        const { graphics } = parseHostFacts(probeFixture("h100-ubuntu2404-root.json"));
        assert.ok(graphics.vulkanIcdFiles.includes("/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json"));
        assert.ok(graphics.eglVendorFiles.includes("/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"));
        assert.deepEqual([graphics.glcore, graphics.encode, graphics.cuvid], [true, true, true]);
    });

    it("gives the same GPU facts when the probe runs as a non-root user", () => {
        const root = parseHostFacts(probeFixture("h100-ubuntu2404-root.json"));
        const user = parseHostFacts(probeFixture("h100-ubuntu2404-nonroot.json"));
        assert.deepEqual(user.gpus, root.gpus);
        assert.deepEqual(user.driver, root.driver);
        assert.equal(user.user.name, "probeuser");
        assert.notEqual(user.user.uid, 0);
    });

    it("reads a host without GPU, driver or systemd", () => {
        const facts = parseHostFacts(probeFixture("debian12-no-gpu.json"));
        assert.deepEqual(facts.gpus, []);
        assert.equal(facts.driver.loadedVersion, undefined);
        assert.equal(facts.driver.kernelModule, undefined);
        assert.equal(facts.systemd, false);
        assert.equal(facts.os.id, "debian");
    });

    it("lists every GPU with index, UUID and MIG mode, and rpm packages by version (hand-made 2-GPU fixture)", () => {
        const facts = parseHostFacts(probeFixture("handmade-2gpu-rocky9.json"));
        assert.deepEqual(
            facts.gpus.map((g) => [g.index, g.uuid, g.migMode]),
            [
                [0, "GPU-11111111-2222-3333-4444-555555555555", "Disabled"],
                [1, "GPU-66666666-7777-8888-9999-000000000000", "Enabled"],
            ],
        );
        assert.equal(facts.toolkitPackages["nvidia-container-toolkit-base"], "1.20.0-1");
        assert.equal(facts.docker?.serverVersion, "27.5.1");
        assert.deepEqual(facts.docker?.runtimes, ["io.containerd.runc.v2", "nvidia", "runc"]);
        assert.equal(facts.secureBoot, "enabled");
        assert.equal(facts.systemd, true);
    });

    it("recognises WSL2, a GPU without MIG, and snap Docker", () => {
        const facts = parseHostFacts(probeFixture("handmade-wsl2-snap-docker.json"));
        assert.equal(facts.wsl2, true);
        assert.equal(facts.gpus[0].migMode, undefined);
        assert.equal(facts.docker?.snap, true);
    });

    it("picks the distribution's own package manager when several are installed", () => {
        const raw = JSON.parse(probeFixture("debian12-no-gpu.json"));
        const withAll = (id: string, idLike: string) =>
            parseHostFacts(JSON.stringify({ ...raw, osId: id, osIdLike: idLike, packageManagers: "apt-get dnf zypper" })).packageManager;
        assert.equal(withAll("rhel", "fedora"), "dnf");
        assert.equal(withAll("opensuse-leap", "suse opensuse"), "zypper");
        assert.equal(withAll("debian", ""), "apt");
        assert.equal(withAll("gentoo", ""), "apt", "unknown family: the first one found");
    });

    it("refuses output that is not the probe's", () => {
        assert.throws(() => parseHostFacts("sudo: a password is required", "gpu-1"), /probe output of gpu-1: is not JSON/);
        assert.throws(() => parseHostFacts('{"probeVersion": "9"}'), /probe version 9/);
    });
});

describe("CDI device names per GPU", () => {
    const { expectedCdiDevices } = require("../../../sdk/runtime/cdiDevices") as typeof import("../../../sdk/runtime/cdiDevices");
    it("covers each index and UUID plus all, as nvidia-ctk cdi list sorts them (hand-made 2-GPU fixture)", () => {
        const facts = parseHostFacts(probeFixture("handmade-2gpu-rocky9.json"));
        assert.deepEqual(expectedCdiDevices(facts.gpus), [
            "nvidia.com/gpu=0",
            "nvidia.com/gpu=1",
            "nvidia.com/gpu=GPU-11111111-2222-3333-4444-555555555555",
            "nvidia.com/gpu=GPU-66666666-7777-8888-9999-000000000000",
            "nvidia.com/gpu=all",
        ]);
    });
    it("gives the real H100 its index, its UUID and all", () => {
        const facts = parseHostFacts(probeFixture("h100-ubuntu2404-root.json"));
        assert.deepEqual(expectedCdiDevices(facts.gpus), ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-90b19bec-097c-6e10-2830-1005b2cfa1ed", "nvidia.com/gpu=all"]);
    });
});
