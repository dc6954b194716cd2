import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { watchedFiles } from "../../components/gpuNode";
import { dockerContainerStep } from "../../sdk/workloads/dockerContainer";
import { NodeSpec, nodePlan } from "../../sdk/node/nodePlan";
import { nodeSpecOf } from "../../sdk/node/nodeSpec";
import YAML from "yaml";
import { REPO_ROOT } from "../helpers/paths";
import { runCli } from "../helpers/runCli";
import {
    FleetNode,
    atVersion,
    versions,
    REPO_DIR,
    failed,
    applySteps,
    fingerprint,
    nodeExec,
    snapshot,
    sshRun,
    startNode,
    startRepoServer,
    stopNode,
    undoSteps,
} from "./fleet";

const REPO_PORT = 18080;
const ORIGINAL_DAEMON_JSON =
    '{\n  "log-driver": "json-file",\n  "log-opts": { "max-size": "10m", "max-file": "3" },\n  "bridge": "none",\n  "iptables": false,\n  "ip-masq": false\n}\n';
const startedAt = (node: FleetNode) => nodeExec(node.name, "systemctl show docker -p ExecMainStartTimestampMonotonic --value").trim();

describe("e2e: a Docker node over SSH (real apt, dockerd, systemd)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    const spec = (version: string, extra: Partial<NodeSpec> = {}) =>
        nodeSpecOf({
            runtime: "docker",
            toolkit: { version, repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
            ...extra,
        });
    async function plan(s: NodeSpec) {
        return nodePlan(await snapshot(node.connection, watchedFiles(s)), s);
    }
    async function apply(s: NodeSpec) {
        const planned = await plan(s);
        return { planned, results: await applySteps(node.connection, planned.plan.steps) };
    }

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        const busybox = fs.readFileSync("/bin/busybox");
        node = startNode(
            "gpu-e2e-docker1",
            "gpu-e2e-docker",
            2201,
            [`printf '%s' '${ORIGINAL_DAEMON_JSON.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > /etc/docker/daemon.json`, "systemctl restart docker"].join(
                " && ",
            ),
        );
        // A tiny image without a registry: a static busybox, imported into the node's Docker.
        fs.writeFileSync(path.join(REPO_ROOT, ".tmp/busybox"), busybox, { mode: 0o755 });
        require("node:child_process").execFileSync("docker", ["cp", path.join(REPO_ROOT, ".tmp/busybox"), `${node.name}:/root/busybox`]);
        nodeExec(
            node.name,
            "until docker info >/dev/null 2>&1; do sleep 1; done; mkdir -p /root/mini/bin && cp /root/busybox /root/mini/bin/busybox && tar -C /root/mini -c . | docker import - mini >/dev/null",
        );
        assert.equal(nodeExec(node.name, "cat /etc/docker/daemon.json"), ORIGINAL_DAEMON_JSON);
    });
    after(() => {
        server?.kill();
        stopNode("gpu-e2e-docker1");
    });

    it("installs the four packages pinned to 1.19.0-1 through the signed loopback repo, and registers the runtime", async () => {
        const { results } = await apply(spec("1.19.0-1"));
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.deepEqual(versions(node), atVersion("1.19.0-1"));
        const info = nodeExec(node.name, "docker info --format '{{json .Runtimes}}'");
        assert.match(info, /"nvidia"/);
    });

    it("keeps every pre-existing daemon.json setting", () => {
        const json = JSON.parse(nodeExec(node.name, "cat /etc/docker/daemon.json"));
        assert.deepEqual(json["log-opts"], { "max-size": "10m", "max-file": "3" });
        assert.equal(json.bridge, "none");
        assert.equal(json.iptables, false);
        assert.equal(json["ip-masq"], false);
        assert.deepEqual(json.runtimes.nvidia, { path: "nvidia-container-runtime", args: [] });
    });

    it("runs a container through NVIDIA's real runtime (docker run --runtime=nvidia, no GPU requested)", () => {
        // The node's GPU stand-in (test/e2e/fleet/gpu-stand-ins/nvidia-container-runtime) logs which way each create went.
        nodeExec(node.name, "rm -f /var/log/nvidia-container-runtime-stand-in.log; docker run --rm --runtime=nvidia mini /bin/busybox true");
        assert.match(nodeExec(node.name, "cat /var/log/nvidia-container-runtime-stand-in.log"), /^\d+ real: \/usr\/bin\/nvidia-container-runtime .*create/m);
    });

    it("re-applies with zero writes and zero restarts, and with the same scripts (no Pulumi diff)", async () => {
        const first = await plan(spec("1.19.0-1"));
        const before = startedAt(node);
        const { planned, results } = await apply(spec("1.19.0-1"));
        assert.equal(failed(results), undefined);
        const acted = results.filter((r) => /^(changed|restarted|started)/m.test(r.stdout));
        assert.deepEqual(
            acted.map((r) => r.name),
            [],
            "no step changed anything",
        );
        assert.equal(startedAt(node), before, "docker was not restarted");
        assert.deepEqual(
            planned.plan.steps.map((s) => s.script),
            first.plan.steps.map((s) => s.script),
        );
    });

    it("gpu-node plan --live reads the host read-only: no drift, then a hand edit reported exactly (exit 2)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "live-"));
        fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(
            path.join(dir, "Pulumi.live.yaml"),
            YAML.stringify({
                config: {
                    "nvidia-gpu-fleet:nodes": [
                        {
                            name: "docker1",
                            host: "127.0.0.1",
                            port: 2201,
                            user: "root",
                            privateKeyPath: path.join(REPO_ROOT, ".tmp/e2e-ssh/id_ed25519"),
                            hostKey: node.connection.hostKey,
                            runtime: "docker",
                            toolkit: spec("1.19.0-1").toolkit,
                        },
                    ],
                },
            }),
        );
        const clean = await runCli("plan", "--live", "--stack", "live", "--root", dir);
        assert.equal(clean.code, 0, clean.stdout + clean.stderr);
        assert.match(clean.stdout, /\/etc\/docker\/daemon\.json: unchanged/);
        const before = nodeExec(node.name, "cat /etc/docker/daemon.json");
        nodeExec(node.name, 'sed -i \'s#"path": "nvidia-container-runtime"#"path": "/opt/other-runtime"#\' /etc/docker/daemon.json');
        const drift = await runCli("plan", "--live", "--stack", "live", "--root", dir);
        assert.equal(drift.code, 2, drift.stdout + drift.stderr);
        assert.match(drift.stdout, /^ {4}- {6}"path": "\/opt\/other-runtime",$/m);
        assert.match(drift.stdout, /^ {4}\+ {6}"path": "nvidia-container-runtime",$/m);
        assert.equal(drift.stdout.split("\n").filter((l) => /^ {4}[-+] /.test(l)).length, 2, "exactly the edited line");
        nodeExec(node.name, `cat > /etc/docker/daemon.json <<'EOF'\n${before}EOF`);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("runs a DockerGpuContainer step: --runtime=nvidia (its GPU request through the GPU stand-in), idempotent, replaced on change, removed on delete", async () => {
        nodeExec(node.name, "docker tag mini mini:1 && docker tag mini mini:2");
        const step = (image: string, driverCapabilities?: string[]) =>
            dockerContainerStep({ name: "gpu-app", image, mode: "runtime", args: ["/bin/busybox", "sleep", "600"], driverCapabilities });
        nodeExec(node.name, "rm -f /var/log/nvidia-container-runtime-stand-in.log");
        const first = await applySteps(node.connection, [step("mini:1")]);
        assert.equal(failed(first), undefined, JSON.stringify(failed(first)));
        assert.match(first[0].stdout, /started container gpu-app/);
        assert.match(nodeExec(node.name, "docker inspect -f '{{.HostConfig.Runtime}} {{.State.Running}} {{.Config.Image}}' gpu-app"), /^nvidia true mini:1/);
        const env = JSON.parse(nodeExec(node.name, "docker inspect -f '{{json .Config.Env}}' gpu-app")) as string[];
        // No capabilities asked: none sent, so the image's own NVIDIA_DRIVER_CAPABILITIES (or the toolkit's default) applies.
        assert.ok(env.includes("NVIDIA_VISIBLE_DEVICES=all"), env.join(" "));
        assert.ok(!env.some((e) => e.startsWith("NVIDIA_DRIVER_CAPABILITIES=")), env.join(" "));
        // NVIDIA_VISIBLE_DEVICES=all needs NVML and a GPU: the node's runtime stand-in hands it to runc unmodified.
        assert.match(nodeExec(node.name, "cat /var/log/nvidia-container-runtime-stand-in.log"), /^\d+ stand-in: GPU request \(all\) passed to runc/m);
        const again = await applySteps(node.connection, [step("mini:1")]);
        assert.match(again[0].stdout, /unchanged: container gpu-app/);
        const changed = await applySteps(node.connection, [step("mini:2", ["compute", "utility"])]);
        assert.match(changed[0].stdout, /started container gpu-app/);
        assert.match(nodeExec(node.name, "docker inspect -f '{{.Config.Image}}' gpu-app"), /^mini:2/);
        const asked = JSON.parse(nodeExec(node.name, "docker inspect -f '{{json .Config.Env}}' gpu-app")) as string[];
        assert.ok(asked.includes("NVIDIA_DRIVER_CAPABILITIES=compute,utility"), asked.join(" "));
        const removed = await undoSteps(node.connection, [step("mini:2", ["compute", "utility"])]);
        assert.equal(failed(removed), undefined);
        assert.equal(nodeExec(node.name, "docker ps -a --filter name=gpu-app -q").trim(), "");
    });

    it("upgrades 1.19.0-1 → 1.20.0-1 and downgrades to 1.17.8-1", async () => {
        assert.equal(failed((await apply(spec("1.20.0-1"))).results), undefined);
        assert.deepEqual(versions(node), atVersion("1.20.0-1"));
        assert.equal(failed((await apply(spec("1.17.8-1"))).results), undefined);
        assert.deepEqual(versions(node), atVersion("1.17.8-1"));
    });

    it("installs a release candidate only with the experimental channel on", async () => {
        const stableOnly = failed((await apply(spec("1.21.0~rc.1-1"))).results)!;
        assert.ok(stableOnly, "the stable channel has no 1.21.0~rc.1-1");
        assert.match(stableOnly.stderr, /1\.21\.0~rc\.1-1/);
        assert.deepEqual(versions(node), atVersion("1.17.8-1"), "nothing changed");
        const withExperimental = await apply(
            spec("1.21.0~rc.1-1", {
                toolkit: { version: "1.21.0~rc.1-1", experimental: true, repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
            }),
        );
        assert.equal(failed(withExperimental.results), undefined, JSON.stringify(failed(withExperimental.results)));
        assert.deepEqual(versions(node), atVersion("1.21.0~rc.1-1"));
    });

    it("refuses a key whose fingerprint is not the pinned one", async () => {
        const s = spec("1.19.0-1", {
            toolkit: {
                version: "1.19.0-1",
                repoUrl: `http://127.0.0.1:${REPO_PORT}`,
                keyUrl: `http://127.0.0.1:${REPO_PORT}/wrong-gpgkey`,
                keyFingerprint: fingerprint(),
            },
        });
        const bad = failed((await apply(s)).results)!;
        assert.equal(bad.name, "toolkit-key");
        assert.equal(bad.code, 11);
        assert.match(bad.stderr, /not the pinned/);
    });

    it("explains a repository signed by another key, and changes nothing", async () => {
        const s = spec("1.19.0-1", { toolkit: { version: "1.19.0-1", repoUrl: `http://127.0.0.1:${REPO_PORT}/wrongsig`, keyFingerprint: fingerprint() } });
        const bad = failed((await apply(s)).results)!;
        assert.equal(bad.name, "toolkit-packages");
        assert.match(bad.stderr, /could not (verify|be read)/);
        assert.deepEqual(versions(node), atVersion("1.21.0~rc.1-1"));
    });

    it("waits for a held dpkg lock, then proceeds", async () => {
        nodeExec(
            node.name,
            "nohup python3 -c \"import fcntl,time; f=open('/var/lib/dpkg/lock-frontend','w'); fcntl.lockf(f, fcntl.LOCK_EX); time.sleep(8)\" >/dev/null 2>&1 &",
        );
        const start = Date.now();
        const { results } = await apply(spec("1.19.0-1"));
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.ok(Date.now() - start > 5000, "it waited for the lock");
        assert.deepEqual(versions(node), atVersion("1.19.0-1"));
    });

    it("reports the repository server down clearly, then a retry succeeds", async () => {
        server.kill();
        await new Promise((r) => setTimeout(r, 300));
        const bad = failed((await apply(spec("1.20.0-1"))).results)!;
        // The key is fetched first, so that is what fails: exit 10 with the URL, else 21 from the package step.
        assert.ok([10, 21].includes(bad.code), `${bad.name} exit ${bad.code}`);
        assert.match(bad.stderr, /could not (download NVIDIA's signing key from|be read).*127\.0\.0\.1:18080/);
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        assert.equal(failed((await apply(spec("1.20.0-1"))).results), undefined);
        assert.deepEqual(versions(node), atVersion("1.20.0-1"));
    });

    it("converges after the SSH session is killed in the middle of a step", async () => {
        const planned = await plan(spec("1.19.0-1"));
        const packages = planned.plan.steps.find((s) => s.name === "toolkit-packages")!;
        const run = sshRun(node.connection, `sh -c ${JSON.stringify("exec sh -s")}`, packages.script, 3000).catch((e) => e);
        await new Promise((r) => setTimeout(r, 1500));
        nodeExec(node.name, "pkill -f 'sshd: [r]oot@notty' || true"); // [r]: not this pkill's own command line
        await run;
        const { results } = await apply(spec("1.19.0-1"));
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.deepEqual(versions(node), atVersion("1.19.0-1"));
    });

    it("refuses a malformed daemon.json and leaves it untouched", async () => {
        const good = nodeExec(node.name, "cat /etc/docker/daemon.json");
        nodeExec(node.name, 'cp /etc/docker/daemon.json /root/daemon.json.good && printf \'{"bridge": "none",}\' > /etc/docker/daemon.json');
        await assert.rejects(plan(spec("1.19.0-1")), /daemon\.json line 1 column \d+: expected a quoted key/);
        assert.equal(nodeExec(node.name, "cat /etc/docker/daemon.json"), '{"bridge": "none",}');
        nodeExec(node.name, "cp /root/daemon.json.good /etc/docker/daemon.json");
        assert.equal(nodeExec(node.name, "cat /etc/docker/daemon.json"), good);
    });

    it("refuses to overwrite a file edited by hand between preview and apply (checksum guard)", async () => {
        const planned = await plan(spec("1.19.0-1", { setAsDefault: true }));
        nodeExec(node.name, 'sed -i \'s/"10m"/"20m"/\' /etc/docker/daemon.json');
        const edited = nodeExec(node.name, "cat /etc/docker/daemon.json");
        const results = await applySteps(node.connection, planned.plan.steps);
        const bad = failed(results)!;
        assert.equal(bad.name, "docker-daemon-json");
        assert.equal(bad.code, 3);
        assert.match(bad.stderr, /changed since it was read for the preview/);
        assert.equal(nodeExec(node.name, "cat /etc/docker/daemon.json"), edited);
    });

    it("rolls back a config that makes dockerd fail to start, and docker runs again", async () => {
        const before = nodeExec(node.name, "cat /etc/docker/daemon.json");
        // "runc" is a runtime name dockerd reserves: it refuses to start with it.
        const { results } = await apply(spec("1.19.0-1", { runtimeName: "runc" }));
        const bad = failed(results)!;
        assert.equal(bad.name, "docker-restart");
        assert.match(bad.stderr, /previous configuration was restored|does not validate/);
        assert.equal(nodeExec(node.name, "cat /etc/docker/daemon.json"), before);
        nodeExec(node.name, "until docker info >/dev/null 2>&1; do sleep 1; done");
    });

    it("destroy restores daemon.json byte for byte and removes the packages", async () => {
        const planned = await plan(spec("1.19.0-1"));
        assert.equal(failed(await applySteps(node.connection, planned.plan.steps)), undefined);
        const results = await undoSteps(node.connection, planned.plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.equal(nodeExec(node.name, "cat /etc/docker/daemon.json"), ORIGINAL_DAEMON_JSON);
        assert.deepEqual(
            versions(node).filter((l) => l !== ""),
            [],
        );
        nodeExec(node.name, "until docker info >/dev/null 2>&1; do sleep 1; done");
    });
});
