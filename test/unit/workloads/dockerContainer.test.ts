import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dockerContainerPlan, dockerContainerStep } from "../../../sdk/workloads/dockerContainer";
import { secretEnvPreamble } from "../../../sdk/workloads/secretEnv";

/** A stand-in `docker` that records its arguments, one per line, and answers `inspect` from a file. */
function fakeDocker(dir: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
        path.join(bin, "docker"),
        `#!/bin/sh
echo "$1" >> "${dir}/calls"
echo "\${DOCKER_HOST:-}" > "${dir}/docker-host"
case "$1" in
  inspect) [ -f "${dir}/state" ] && cat "${dir}/state" && exit 0; exit 1 ;;
  run) printf '%s\\n' "$@" > "${dir}/run-args"; for a in "$@"; do case "$prev" in --env-file) cat "$a" > "${dir}/env-file"; ls -l "$a" | cut -c 1-10 > "${dir}/env-file-mode"; echo "$a" > "${dir}/env-file-path" ;; esac; prev=$a; done; [ -f "${dir}/run-fails" ] && { echo "docker: Error response from daemon: unknown or invalid runtime name: nvidia" >&2; exit 125; }; exit 0 ;;
  rm) : > "${dir}/removed"; exit 0 ;;
esac
`,
        { mode: 0o755 },
    );
    return bin;
}

describe("docker container step (run with a recording docker)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-step-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const run = (text: string) => spawnSync("sh", ["-c", text], { encoding: "utf8", env: { ...process.env, PATH: `${fakeDocker(dir)}:${process.env.PATH}` } });

    it("passes each argument intact, the --gpus CSV quoted as Docker wants it", () => {
        const step = dockerContainerStep({
            name: "smi",
            image: "nvidia/cuda:12.4.1-base-ubuntu22.04",
            devices: ["0", "1"],
            env: { GREETING: "hello world; $(id)" },
            args: ["nvidia-smi", "-L"],
            driverCapabilities: ["compute", "utility"],
        });
        const r = run(step.script);
        assert.equal(r.status, 0, r.stderr);
        const args = fs.readFileSync(path.join(dir, "run-args"), "utf8").trimEnd().split("\n");
        assert.deepEqual(args.slice(0, 10), [
            "run",
            "--detach",
            "--name",
            "smi",
            "--restart",
            "unless-stopped",
            "--gpus",
            '"device=0,1","capabilities=compute,utility"',
            "-e",
            "GREETING=hello world; $(id)",
        ]);
        assert.deepEqual(args.slice(-3), ["nvidia/cuda:12.4.1-base-ubuntu22.04", "nvidia-smi", "-L"]);
    });

    it("does nothing when the running container has the same spec, and replaces it otherwise", () => {
        const step = dockerContainerStep({ name: "smi", image: "nvidia/cuda:12.4.1-base-ubuntu22.04" });
        const label = /^want=([0-9a-f]+)$/m.exec(step.script)![1];
        fs.writeFileSync(path.join(dir, "state"), `${label} true`);
        const same = run(step.script);
        assert.match(same.stdout, /unchanged: container smi/);
        assert.ok(!fs.existsSync(path.join(dir, "run-args")));
        fs.writeFileSync(path.join(dir, "state"), `0000 true`);
        const changed = run(step.script);
        assert.match(changed.stdout, /started container smi/);
        assert.ok(fs.existsSync(path.join(dir, "removed")));
    });

    it("refuses latest, bad devices and bad env names before any script exists", () => {
        assert.throws(() => dockerContainerStep({ name: "x", image: "nvidia/cuda:latest" }), /NVIDIA removed "latest"/);
        assert.throws(() => dockerContainerStep({ name: "x", image: "nvidia/cuda:12.4.1-base-ubuntu22.04", devices: ["0; reboot"] }), /devices\[0\]/);
        assert.throws(
            () => dockerContainerStep({ name: "x", image: "nvidia/cuda:12.4.1-base-ubuntu22.04", env: { "A B": "x" } }),
            /env\.A B: is not a variable name/,
        );
    });

    it("removes the Created container a failed docker run leaves, since a failed create is not in state for destroy (issue 12 bug 11)", () => {
        const step = dockerContainerStep({ name: "smi", image: "nvidia/cuda:12.4.1-base-ubuntu22.04", mode: "runtime" });
        fs.writeFileSync(path.join(dir, "run-fails"), "");
        const r = run(step.script);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /docker run of container smi failed, and the container was removed: .*unknown or invalid runtime name/);
        const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
        assert.deepEqual(calls.slice(-2), ["run", "rm"], "the container is removed after the failed run");
    });

    const image = "nvidia/cuda:12.4.1-base-ubuntu22.04";
    const runArgs = () => fs.readFileSync(path.join(dir, "run-args"), "utf8").trimEnd().split("\n");

    it("renders ports, volumes, tmpfs, network, IPC, shm, ulimits, user, workdir, entrypoint, labels, health check and logs before the image", () => {
        const step = dockerContainerStep({
            name: "svc",
            image,
            args: ["--port", "8000"],
            options: {
                ports: [
                    { internal: 8000, external: 18000, ip: "127.0.0.1" },
                    { internal: 49152, protocol: "udp", count: 100 },
                    { internal: 9000, ip: "::1" },
                ],
                volumes: [
                    { containerPath: "/data", hostPath: "/srv/data", readOnly: true },
                    { containerPath: "/cache", volumeName: "hf-cache" },
                ],
                tmpfs: { "/scratch": "size=64m,mode=1777" },
                networkMode: "ml-net",
                ipcMode: "shareable",
                shmSize: 8192,
                ulimits: [
                    { name: "memlock", soft: -1, hard: -1 },
                    { name: "stack", soft: 67108864, hard: 67108864 },
                ],
                user: "1000:1000",
                workingDir: "/workspace",
                entrypoints: ["python3", "-m", "server"],
                labels: { team: "ml" },
                healthcheck: { tests: ["CMD", "curl", "-f", "http://localhost:8000/health"], interval: "30s", retries: 3 },
                logDriver: "json-file",
                logOpts: { "max-size": "10m" },
            },
        });
        assert.equal(run(step.script).status, 0);
        const args = runArgs();
        const at = args.indexOf(image);
        const before = args.slice(0, at);
        for (const pair of [
            ["--publish", "127.0.0.1:18000:8000/tcp"],
            ["--publish", "49152-49251:49152-49251/udp"],
            ["--publish", "[::1]:9000:9000/tcp"],
            ["--mount", "type=bind,source=/srv/data,target=/data,readonly"],
            ["--mount", "type=volume,source=hf-cache,target=/cache"],
            ["--tmpfs", "/scratch:size=64m,mode=1777"],
            ["--network", "ml-net"],
            ["--ipc", "shareable"],
            ["--shm-size", "8192m"],
            ["--ulimit", "memlock=-1:-1"],
            ["--ulimit", "stack=67108864:67108864"],
            ["--user", "1000:1000"],
            ["--workdir", "/workspace"],
            ["--entrypoint", "python3"],
            ["--label", "team=ml"],
            ["--health-cmd", "curl -f http://localhost:8000/health"],
            ["--health-interval", "30s"],
            ["--health-retries", "3"],
            ["--log-driver", "json-file"],
            ["--log-opt", "max-size=10m"],
        ]) {
            const i = before.findIndex((a, k) => a === pair[0] && before[k + 1] === pair[1]);
            assert.ok(i >= 0, `${pair.join(" ")} before the image in ${before.join(" ")}`);
        }
        // The entrypoint's other words, then args, after the image.
        assert.deepEqual(args.slice(at + 1), ["-m", "server", "--port", "8000"]);
    });

    it("refuses each bad option naming its field", () => {
        const bad: [object, RegExp][] = [
            [{ ports: [{ internal: 0 }] }, /^GpuConfigError: ports\[0\]\.internal: 0 is not a port/],
            [{ ports: [{ internal: 80, external: 70000 }] }, /ports\[0\]\.external: 70000 is not a port/],
            [{ ports: [{ internal: 80, protocol: "icmp" }] }, /ports\[0\]\.protocol: "icmp" is not supported/],
            [{ ports: [{ internal: 80, ip: "0.0.0.0; reboot" }] }, /ports\[0\]\.ip/],
            [{ ports: [{ internal: 65500, count: 100 }] }, /ports\[0\]\.count/],
            [{ volumes: [{ containerPath: "data" }] }, /volumes\[0\]\.containerPath: "data" is not an absolute path/],
            [{ volumes: [{ containerPath: "/d", hostPath: "/a,readonly=false" }] }, /volumes\[0\]\.hostPath/],
            [{ volumes: [{ containerPath: "/d", hostPath: "/srv/../etc" }] }, /volumes\[0\]\.hostPath/],
            [{ volumes: [{ containerPath: "/d", hostPath: "/a", volumeName: "v" }] }, /volumes\[0\]: sets both hostPath and volumeName/],
            [{ tmpfs: { "/t": "size=1g;id" } }, /tmpfs\.\/t/],
            [{ networkMode: "host net" }, /networkMode/],
            [{ ipcMode: "hosts" }, /ipcMode: "hosts" is not private, shareable/],
            [{ shmSize: 1.5 }, /shmSize: 1\.5 is not a size in MiB/],
            [{ ulimits: [{ name: "memlocks", soft: 1, hard: 1 }] }, /ulimits\[0\]\.name: "memlocks" is not supported/],
            [{ ulimits: [{ name: "nofile", soft: -2, hard: 1 }] }, /ulimits\[0\]\.soft/],
            [{ user: "root;id" }, /user: "root;id"/],
            [{ workingDir: "work" }, /workingDir/],
            [{ labels: { "nvidia-gpu.pulumi.com/spec": "x" } }, /labels\.nvidia-gpu\.pulumi\.com\/spec: is this library's own label/],
            [{ labels: { a: "x\ny" } }, /labels\.a: holds a line break/],
            [{ healthcheck: { tests: ["curl"] } }, /healthcheck\.tests/],
            [{ healthcheck: { tests: ["NONE"], interval: "soon" } }, /^(?!)/],
            [{ healthcheck: { tests: ["CMD-SHELL", "true"], interval: "soon" } }, /healthcheck\.interval: "soon" is not a duration/],
            [{ healthcheck: { tests: ["CMD-SHELL", "true"], retries: -1 } }, /healthcheck\.retries/],
            [{ logDriver: "json file" }, /logDriver/],
            [{ logOpts: { "max size": "1" } }, /logOpts\.max size/],
        ];
        for (const [options, error] of bad) {
            if (error.source === "^(?!)") {
                assert.doesNotThrow(() => dockerContainerStep({ name: "x", image, options }), "NONE ignores the timings");
                continue;
            }
            assert.throws(() => dockerContainerStep({ name: "x", image, options }), error, JSON.stringify(options));
        }
    });

    it("replaces the container when any option changes, and keeps it when none does", () => {
        const base = { name: "svc", image, options: { ports: [{ internal: 80 }], shmSize: 1024 } };
        const label = (spec: Parameters<typeof dockerContainerStep>[0]) => {
            const r = run(dockerContainerStep(spec).script);
            assert.equal(r.status, 0, r.stderr);
            return runArgs().find((a) => a.startsWith("nvidia-gpu.pulumi.com/spec="));
        };
        const first = label(base);
        assert.equal(label(base), first);
        for (const options of [{ ports: [{ internal: 81 }], shmSize: 1024 }, { ports: [{ internal: 80 }], shmSize: 2048 }, { ports: [{ internal: 80 }] }])
            assert.notEqual(label({ ...base, options }), first, JSON.stringify(options));
    });

    it("takes secret env from a 0600 file the stdin preamble writes and the shell removes; the script and preview hold only the names", () => {
        const secret = "s3cr3t value; $(id) 'q'";
        const plan = dockerContainerPlan({ name: "svc", image, secretEnv: ["HF_TOKEN"] });
        assert.ok(!plan.step.script.includes(secret));
        assert.match(plan.commandLine, /--env-file <secret: HF_TOKEN>/);
        const r = run(secretEnvPreamble({ HF_TOKEN: secret }, "secretEnv") + plan.step.script);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.readFileSync(path.join(dir, "env-file"), "utf8"), `HF_TOKEN=${secret}\n`);
        assert.equal(fs.readFileSync(path.join(dir, "env-file-mode"), "utf8").trim(), "-rw-------");
        assert.ok(!fs.existsSync(fs.readFileSync(path.join(dir, "env-file-path"), "utf8").trim()), "the env-file is removed when the step ends");
        assert.ok(!runArgs().some((a) => a.includes("s3cr3t")), "no argument holds the value");
        assert.ok(!(r.stdout + r.stderr).includes("s3cr3t"), "nothing printed holds the value");
        // A changed secret changes the label, so the container is replaced; the label holds a checksum, not the value.
        const label = runArgs().find((a) => a.startsWith("nvidia-gpu.pulumi.com/spec="))!;
        run(secretEnvPreamble({ HF_TOKEN: "other" }, "secretEnv") + plan.step.script);
        assert.notEqual(
            runArgs().find((a) => a.startsWith("nvidia-gpu.pulumi.com/spec=")),
            label,
        );
        // Without the preamble the step refuses instead of starting a container without its secrets.
        const bare = run(plan.step.script);
        assert.notEqual(bare.status, 0);
        assert.match(bare.stderr, /secret environment \(HF_TOKEN\) did not arrive on stdin/);
        assert.throws(
            () => secretEnvPreamble({ HF_TOKEN: "a\nb" }, "secretEnv"),
            /^GpuConfigError: secretEnv\.HF_TOKEN: holds a line break or NUL \(the value is not shown\)/,
        );
        assert.throws(() => dockerContainerStep({ name: "svc", image, env: { A: "1" }, secretEnv: ["A"] }), /secretEnv\.A: is also in env/);
    });

    it("talks to the rootless user's own daemon, as that user", () => {
        const step = dockerContainerStep({ name: "svc", image, rootlessUser: "alice" });
        assert.equal(step.runAs, "alice");
        assert.equal(step.root, false);
        const r = spawnSync("sh", ["-c", step.script], {
            encoding: "utf8",
            env: { ...process.env, PATH: `${fakeDocker(dir)}:${process.env.PATH}`, DOCKER_HOST: "unix:///var/run/docker.sock" },
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.readFileSync(path.join(dir, "docker-host"), "utf8").trim(), `unix:///run/user/${process.getuid!()}/docker.sock`);
        assert.match(step.script, /DOCKER_HOST="unix:\/\/\/run\/user\/\$\(id -u\)\/docker\.sock"; export DOCKER_HOST/);
        assert.match(step.undoScript!, /DOCKER_HOST="unix:\/\/\/run\/user/);
        assert.equal(dockerContainerStep({ name: "svc", image }).runAs, undefined);
    });
});
