import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import { watchedFiles } from "../../components/gpuNode";
import { DockerContainerSpec, dockerContainerStep } from "../../sdk/workloads/dockerContainer";
import { secretEnvPreamble } from "../../sdk/workloads/secretEnv";
import { dockerGroupFindings } from "../../sdk/runtime/dockerHostAccess";
import { dockerHost } from "../../sdk/runtime/dockerHost";
import { invocationFor } from "../../sdk/steps/invocation";
import { NodeSpec, nodePlan } from "../../sdk/node/nodePlan";
import { FleetNode, REPO_DIR, applySteps, failed, fingerprint, nodeExec, snapshot, sshRun, startNode, startRepoServer, stopNode, undoSteps } from "./fleet";
import { IMAGE, importMini } from "./workloadImages";
import { remoteDockerCli } from "./remoteDocker";

const SLEEP = ["/bin/busybox", "sleep", "600"];

/**
 * DockerGpuContainer's workloads on fleet nodes through real engines (issue 27): the driver capabilities each GPU mode
 * hands to NVIDIA's real hook and to the container, run options in a running container, secret env, and the
 * remote Docker from this machine as root and as a sudo user. (A rootless user's daemon: rootlessWorkloads.e2e.ts.)
 * Ports (this branch's range): SSH 2701, repo 18701; rootlessWorkloads.e2e.ts has 2702, 18702 and 2780.
 */
describe("e2e: GPU workloads on a rootful Docker node (capabilities per mode, run options, secret env)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    const spec = (): NodeSpec => ({ runtime: "docker", toolkit: { version: "1.20.0-1", repoUrl: "http://127.0.0.1:18701", keyFingerprint: fingerprint() } });
    const run = async (s: DockerContainerSpec, secrets?: Record<string, string>) => {
        const step = dockerContainerStep(s);
        const invocation = invocationFor(step, "root", "root", "stdin");
        const stdin = (secrets ? secretEnvPreamble(secrets, "secretEnv") : "") + (invocation.stdin ?? "");
        return { step, result: await sshRun(node.connection, invocation.command, stdin) };
    };
    const env = (name: string) => JSON.parse(nodeExec(node.name, `docker inspect -f '{{json .Config.Env}}' ${name}`)) as string[];

    before(async () => {
        server = await startRepoServer(REPO_DIR, 18701);
        // No docker0 in the shared host network namespace (the node uses the host's network).
        node = startNode(
            "gpu-e2e-docker-wl",
            "gpu-e2e-docker",
            2701,
            `printf '{"bridge": "none", "iptables": false, "ip-masq": false}\\n' > /etc/docker/daemon.json && systemctl restart docker`,
        );
        const planned = nodePlan(await snapshot(node.connection, watchedFiles(spec())), spec());
        const results = await applySteps(node.connection, planned.plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        await importMini(node);
    });
    after(() => {
        server?.kill();
        stopNode("gpu-e2e-docker-wl");
    });

    // --gpus goes through NVIDIA's real nvidia-container-runtime-hook, which turns the container's environment into
    // nvidia-container-cli flags; the fleet's nvidia-container-cli stand-in refuses to configure a GPU-less node and
    // names the flags it was given, so docker run fails with exactly what the hook received.
    const hookFlags = (stderr: string) => {
        const m = /e2e stand-in: '([^']*)'/.exec(stderr);
        assert.ok(m, `the hook called nvidia-container-cli: ${stderr}`);
        return m![1].split(" ").filter((a) => /^--(compute|utility|graphics|video|display|compat32|ngx)$/.test(a));
    };
    for (const [title, caps, image, expected] of [
        ["nothing asked: the toolkit's compute,utility", undefined, IMAGE, ["--compute", "--utility"]],
        ["nothing asked: the image's own NVIDIA_DRIVER_CAPABILITIES stands", undefined, "mini-gl:1", ["--utility", "--graphics"]],
        ["graphics,video as --gpus capabilities", ["graphics", "video"], "mini-gl:1", ["--graphics", "--video"]],
        ["all, as the variable: every capability", ["all"], IMAGE, ["--compute", "--compat32", "--graphics", "--utility", "--video", "--display", "--ngx"]],
        ["ngx, as the variable (Docker's nvidia driver refuses it in --gpus)", ["compute", "ngx"], IMAGE, ["--compute", "--ngx"]],
    ] as [string, string[] | undefined, string, string[]][]) {
        it(`gpus mode, ${title}: NVIDIA's real hook receives ${expected.join(" ")}`, async () => {
            const { result } = await run({ name: "caps", image, mode: "gpus", driverCapabilities: caps, args: SLEEP });
            assert.notEqual(result.code, 0, "no GPU here: the stand-in cli refuses");
            assert.deepEqual(hookFlags(result.stderr).sort(), [...expected].sort(), result.stderr);
        });
    }

    it("runtime mode: the capabilities asked for reach the container's environment, and none is sent when none is asked", async () => {
        const asked = await run({ name: "rt", image: "mini-gl:1", mode: "runtime", driverCapabilities: ["compute", "video"], args: SLEEP });
        assert.equal(asked.result.code, 0, asked.result.stderr);
        assert.ok(env("rt").includes("NVIDIA_DRIVER_CAPABILITIES=compute,video"), env("rt").join(" "));
        const image = await run({ name: "rt", image: "mini-gl:1", mode: "runtime", args: SLEEP });
        assert.equal(image.result.code, 0, image.result.stderr);
        assert.deepEqual(
            env("rt").filter((e) => e.startsWith("NVIDIA_DRIVER_CAPABILITIES=")),
            ["NVIDIA_DRIVER_CAPABILITIES=graphics,utility"],
            "the image's own value",
        );
        await undoSteps(node.connection, [image.step]);
    });

    it("cdi mode: the CDI device and the capabilities as the variable reach Docker (bookworm's Docker 20.10 has no CDI: it refuses the device)", async () => {
        const { result } = await run({ name: "cdi", image: IMAGE, mode: "cdi", devices: ["0"], driverCapabilities: ["compute", "graphics"], args: SLEEP });
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /nvidia\.com\/gpu=0/, "Docker 20.10 takes the CDI name for a device path");
        // The same arguments, created without starting, show the variable the container gets.
        nodeExec(
            node.name,
            `docker rm -f cdi-env >/dev/null 2>&1; docker create --name cdi-env -e NVIDIA_DRIVER_CAPABILITIES=compute,graphics ${IMAGE} /bin/busybox true >/dev/null`,
        );
        assert.ok(env("cdi-env").includes("NVIDIA_DRIVER_CAPABILITIES=compute,graphics"));
        nodeExec(node.name, "docker rm -f cdi-env >/dev/null");
    });

    it("runs a container with IPC, /dev/shm, ulimits, user, workdir, tmpfs, a read-only bind mount, labels, a health check and log options", async () => {
        nodeExec(node.name, "mkdir -p /srv/wl && echo served-from-host > /srv/wl/index.html");
        const s: DockerContainerSpec = {
            name: "opts",
            image: IMAGE,
            mode: "runtime",
            args: SLEEP,
            options: {
                volumes: [{ containerPath: "/data", hostPath: "/srv/wl", readOnly: true }],
                tmpfs: { "/scratch": "size=16m" },
                shmSize: 256,
                // NGC asks for memlock -1; the fleet's nodes run without CAP_SYS_RESOURCE and an 8 MiB hard memlock, so runc
                // cannot raise it here ("error setting rlimit type 8: operation not permitted"): a limit below theirs
                // shows the option arrives. The real-GPU suite (test/gpu/gpuWorkloads.ts wl-ngc) sets -1.
                ulimits: [
                    { name: "memlock", soft: 4194304, hard: 8388608 },
                    { name: "stack", soft: 67108864, hard: 67108864 },
                ],
                user: "1000:1000",
                workingDir: "/data",
                labels: { team: "ml" },
                healthcheck: { tests: ["CMD", "/bin/busybox", "true"], interval: "5s", retries: 2 },
                logDriver: "json-file",
                logOpts: { "max-size": "1m" },
            },
        };
        const first = await run(s);
        assert.equal(first.result.code, 0, first.result.stderr);
        const exec = (cmd: string) => nodeExec(node.name, `docker exec opts /bin/busybox sh -c '${cmd}'`).trim();
        assert.equal(exec("cat /data/index.html"), "served-from-host");
        assert.match(nodeExec(node.name, "docker exec opts /bin/busybox touch /data/x 2>&1 || true"), /Read-only file system/);
        assert.match(exec("df -m /dev/shm | tail -n 1"), /\s256\s/);
        assert.match(exec('grep -i "locked memory" /proc/self/limits'), /4194304\s+8388608/);
        assert.match(exec('grep -i "max stack" /proc/self/limits'), /67108864\s+67108864/);
        assert.equal(exec("id -u; pwd"), "1000\n/data");
        assert.match(exec("grep /scratch /proc/mounts"), /tmpfs \/scratch tmpfs .*size=16384k/);
        const inspect = nodeExec(
            node.name,
            "docker inspect -f '{{.Config.Labels.team}} {{json .Config.Healthcheck.Test}} {{.HostConfig.LogConfig.Type}} {{json .HostConfig.LogConfig.Config}}' opts",
        );
        assert.equal(inspect.trim(), 'ml ["CMD-SHELL","/bin/busybox true"] json-file {"max-size":"1m"}');
        // Same spec: left running; one changed option: replaced.
        assert.match((await run(s)).result.stdout, /unchanged: container opts/);
        const changed = await run({ ...s, options: { ...s.options, shmSize: 512 } });
        assert.match(changed.result.stdout, /started container opts/);
        assert.match(exec("df -m /dev/shm | tail -n 1"), /\s512\s/);
        // NGC's other form: the host's IPC namespace.
        const ipc = await run({ name: "ipc", image: IMAGE, mode: "runtime", args: SLEEP, options: { ipcMode: "host" } });
        assert.equal(ipc.result.code, 0, ipc.result.stderr);
        assert.equal(nodeExec(node.name, "docker exec ipc /bin/busybox readlink /proc/1/ns/ipc").trim(), nodeExec(node.name, "readlink /proc/1/ns/ipc").trim());
        await undoSteps(node.connection, [changed.step, ipc.step]);
    });

    it("remote Docker from this machine (README: docker context create … --docker host=<dockerHost>): root's works; a sudo user's fails until the docker group, which preview names", async () => {
        const cli = remoteDockerCli();
        try {
            nodeExec(node.name, "docker rm -f remote >/dev/null 2>&1; docker run -d --name remote mini:1 /bin/busybox sleep 600 >/dev/null");
            cli.createContext("wl-root", dockerHost(spec(), node.connection));
            const asRoot = cli.docker("--context", "wl-root", "ps", "--format", "{{.Names}}");
            assert.equal(asRoot.status, 0, asRoot.stderr);
            assert.match(asRoot.stdout, /^remote$/m);
            const asOps = { ...node.connection, user: "ops" };
            cli.createContext("wl-ops", dockerHost(spec(), asOps));
            const facts = (await snapshot(asOps, [])).facts;
            assert.deepEqual(facts.user.groups?.includes("docker"), false, JSON.stringify(facts.user));
            assert.equal(dockerGroupFindings(facts)[0]?.id, "docker-host-group", "the preview says what is missing");
            const denied = cli.docker("--context", "wl-ops", "ps");
            assert.notEqual(denied.status, 0);
            // The remote dial-stdio is refused /var/run/docker.sock; Docker 28's client reports only that it cannot connect.
            assert.match(denied.stderr, /Cannot connect to the Docker daemon|permission denied/i);
            nodeExec(node.name, "usermod -aG docker ops");
            assert.deepEqual(dockerGroupFindings((await snapshot(asOps, [])).facts), []);
            const allowed = cli.docker("--context", "wl-ops", "ps", "--format", "{{.Names}}");
            assert.equal(allowed.status, 0, allowed.stderr);
            assert.match(allowed.stdout, /^remote$/m);
        } finally {
            cli.cleanup();
            nodeExec(node.name, "docker rm -f remote >/dev/null 2>&1 || true");
        }
    });

    it("passes secret env through a 0600 env-file that is gone afterwards; the value is in no argument, output or log", async () => {
        const secret = "tok-27-e2e-$(id)";
        const s: DockerContainerSpec = { name: "sec", image: IMAGE, mode: "runtime", args: SLEEP, secretEnv: ["HF_TOKEN"] };
        const { step, result } = await run(s, { HF_TOKEN: secret });
        assert.equal(result.code, 0, result.stderr);
        assert.ok(!(result.stdout + result.stderr).includes("tok-27"));
        assert.equal(nodeExec(node.name, `docker exec sec /bin/busybox sh -c 'echo "$HF_TOKEN"'`).trim(), secret);
        assert.ok(!JSON.stringify(nodeExec(node.name, "docker inspect -f '{{json .Config.Cmd}} {{json .Config.Labels}}' sec")).includes("tok-27"));
        assert.equal(nodeExec(node.name, "grep -rl tok-27 /tmp /var/tmp 2>/dev/null || true").trim(), "", "no file is left holding it");
        assert.match((await run(s, { HF_TOKEN: secret })).result.stdout, /unchanged/);
        assert.match((await run(s, { HF_TOKEN: "rotated" })).result.stdout, /started container sec/, "a rotated secret replaces the container");
        await undoSteps(node.connection, [step]);
    });
});
