import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync } from "node:child_process";
import * as path from "node:path";
import * as TOML from "@iarna/toml";
import { watchedFiles } from "../../components/gpuNode";
import { nodePlan } from "../../sdk/node/nodePlan";
import { nodeSpecOf } from "../../sdk/node/nodeSpec";
import { REPO_ROOT } from "../helpers/paths";
import { KUBEADM_CONFIG } from "./fleet/hostConfigs";
import { FleetNode, REPO_DIR, failed, applySteps, fingerprint, nodeExec, snapshot, startNode, startRepoServer, stopNode, undoSteps } from "./fleet";

const NAME = "gpu-e2e-containerd23";
const SSH_PORT = 2241;
const REPO_PORT = 18125;
/** containerd 2.3.4, built from the Go module proxy by tools/setup-binaries.sh: the release of NVIDIA/aicr#1688. */
const CONTAINERD_2_3_4 = path.join(REPO_ROOT, ".tmp/bin/containerd-2.3.4");

/**
 * NVIDIA/aicr#1688 on a live node: containerd 2.3 runs its config at version 4 and dumps it so, while the node's own
 * config.toml is version 2 (kubeadm's). A drop-in written at the dump's version stops containerd ("drop-in config version 4
 * higher than root config version 2") and the node goes NotReady. The plan reads that dump for the effective config and
 * must still write its drop-in at the root's version, restart the real daemon and find it back with the nvidia runtime.
 */
describe("e2e: containerd 2.3.4 running a version-2 config.toml (NVIDIA/aicr#1688) on a systemd node", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    const spec = nodeSpecOf({ runtime: "containerd", toolkit: { version: "1.20.0-1", repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: "" } });
    const dump = () => TOML.parse(nodeExec(node.name, "containerd config dump")) as any;
    const mainPid = () => nodeExec(node.name, "systemctl show containerd -p MainPID --value").trim();
    async function plan() {
        spec.toolkit.keyFingerprint = fingerprint();
        return nodePlan(await snapshot(node.connection, watchedFiles(spec)), spec);
    }

    before(async () => {
        execFileSync("sh", [path.join(REPO_ROOT, "tools/setup-binaries.sh")], { stdio: "ignore" });
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        node = startNode(NAME, "gpu-e2e-docker", SSH_PORT, "systemctl disable --now docker docker.socket >/dev/null 2>&1 || true");
        // Debian's containerd unit, with the 2.3.4 binary in place of Debian's 1.6.
        execFileSync("docker", ["cp", CONTAINERD_2_3_4, `${NAME}:/usr/bin/containerd`]);
        nodeExec(node.name, `cat > /etc/containerd/config.toml <<'EOF'\n${KUBEADM_CONFIG}EOF\nsystemctl restart containerd`);
    });
    after(() => {
        server?.kill();
        stopNode(NAME);
    });

    it("the node runs containerd 2.3.4, which dumps the version-2 file at version 4 (the trap)", () => {
        assert.match(nodeExec(node.name, "containerd --version"), / v?2\.3\.4 /);
        assert.equal(nodeExec(node.name, "systemctl is-active containerd").trim(), "active");
        assert.equal(dump().version, 4);
    });

    it("up writes the drop-in at the root's version 2, restarts the real daemon, which comes back with the nvidia runtime", async () => {
        const before = mainPid();
        const results = await applySteps(node.connection, (await plan()).plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        const dropIn = TOML.parse(nodeExec(node.name, "cat /etc/containerd/conf.d/99-nvidia.toml")) as any;
        assert.equal(dropIn.version, 2, "the drop-in's version is the root file's, not the running daemon's");
        assert.match(results.find((r) => r.name === "containerd-restart")!.stdout, /restarted containerd/);
        assert.notEqual(mainPid(), before);
        assert.equal(nodeExec(node.name, "systemctl is-active containerd").trim(), "active");
        const runtimes = dump().plugins["io.containerd.cri.v1.runtime"].containerd.runtimes;
        assert.equal(runtimes.nvidia.options.BinaryName, "/usr/bin/nvidia-container-runtime");
        assert.equal(runtimes.nvidia.options.SystemdCgroup, true, "runc's SystemdCgroup carried over to nvidia");
        assert.match(nodeExec(node.name, "journalctl -u containerd --no-pager -n 200"), /containerd successfully booted/);
        assert.doesNotMatch(nodeExec(node.name, "journalctl -u containerd --no-pager -n 200"), /higher than root config version/);
    });

    it("re-plans identically on the applied node: the engine would run nothing", async () => {
        const first = (await plan()).plan.steps.map((s) => s.script);
        const pid = mainPid();
        const results = await applySteps(node.connection, (await plan()).plan.steps);
        assert.equal(failed(results), undefined);
        assert.deepEqual(
            (await plan()).plan.steps.map((s) => s.script),
            first,
        );
        assert.equal(mainPid(), pid, "containerd was not restarted");
    });

    it("destroy restores config.toml byte for byte, removes the drop-in, and containerd 2.3.4 runs again without nvidia", async () => {
        const results = await undoSteps(node.connection, (await plan()).plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.equal(nodeExec(node.name, "cat /etc/containerd/config.toml"), KUBEADM_CONFIG);
        assert.equal(nodeExec(node.name, "test -e /etc/containerd/conf.d/99-nvidia.toml && echo present || echo gone").trim(), "gone");
        assert.equal(nodeExec(node.name, "systemctl is-active containerd").trim(), "active");
        assert.equal(dump().plugins["io.containerd.cri.v1.runtime"].containerd.runtimes.nvidia, undefined);
    });
});
