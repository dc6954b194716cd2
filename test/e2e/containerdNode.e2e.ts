import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import * as TOML from "@iarna/toml";
import { watchedFiles } from "../../components/gpuNode";
import { nodePlan } from "../../sdk/node/nodePlan";
import { nodeSpecOf } from "../../sdk/node/nodeSpec";
import { KUBEADM_CONFIG, SUDO_PASSWORD } from "./fleet/hostConfigs";
import { FleetNode, REPO_DIR, failed, applySteps, fingerprint, nodeExec, snapshot, startNode, startRepoServer, stopNode, undoSteps } from "./fleet";

const REPO_PORT = 18081;

describe("e2e: a containerd node over SSH as a sudo user (kubeadm-like v2 config)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    const spec = nodeSpecOf({ runtime: "containerd", toolkit: { version: "1.20.0-1", repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: "" } });
    const dump = () => TOML.parse(nodeExec(node.name, "containerd config dump")) as any;
    async function plan() {
        spec.toolkit.keyFingerprint = fingerprint();
        return nodePlan(await snapshot(node.connection, watchedFiles(spec)), spec);
    }

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        node = startNode("gpu-e2e-containerd1", "gpu-e2e-docker", 2202, "systemctl disable --now docker docker.socket >/dev/null 2>&1 || true");
        // This node is driven by the non-root user `ops`, whose sudo asks for a password: it goes on stdin only.
        node = { ...node, connection: { ...node.connection, user: "ops", sudoPassword: SUDO_PASSWORD } };
        nodeExec(node.name, `cat > /etc/containerd/config.toml <<'EOF'\n${KUBEADM_CONFIG}EOF\nsystemctl restart containerd`);
    });
    after(() => {
        server?.kill();
        stopNode("gpu-e2e-containerd1");
    });

    it("registers the nvidia runtime with runc's SystemdCgroup = true, and containerd keeps every original setting", async () => {
        const planned = await plan();
        const results = await applySteps(node.connection, planned.plan.steps, "password", SUDO_PASSWORD);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.equal(
            nodeExec(node.name, "grep -c ops-sudo-pw /var/log/auth.log /root/.bash_history 2>/dev/null | grep -v ':0$' || true").trim(),
            "",
            "the password is in no log",
        );
        assert.match(results.find((r) => r.name === "containerd-restart")!.stdout, /restarted containerd/);
        const cri = dump().plugins["io.containerd.grpc.v1.cri"];
        assert.equal(cri.containerd.runtimes.nvidia.options.BinaryName, "/usr/bin/nvidia-container-runtime");
        assert.equal(cri.containerd.runtimes.nvidia.options.SystemdCgroup, true);
        assert.equal(cri.containerd.runtimes.runc.options.SystemdCgroup, true);
        assert.equal(cri.sandbox_image, "registry.k8s.io/pause:3.10");
        assert.equal(cri.cni.bin_dir, "/opt/cni/bin");
        assert.equal(cri.containerd.snapshotter, "overlayfs");
        assert.equal(cri.containerd.default_runtime_name, "runc");
    });

    it("changed config.toml by one imports line: the owner's comment is still there", () => {
        const now = nodeExec(node.name, "cat /etc/containerd/config.toml");
        assert.equal(now, KUBEADM_CONFIG.replace("version = 2\n", 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n'));
    });

    it("re-applies with zero writes and no containerd restart", async () => {
        const started = nodeExec(node.name, "systemctl show containerd -p ExecMainStartTimestampMonotonic --value");
        const results = await applySteps(node.connection, (await plan()).plan.steps, "password", SUDO_PASSWORD);
        assert.equal(failed(results), undefined);
        assert.deepEqual(
            results.filter((r) => /^(changed|restarted)/m.test(r.stdout)).map((r) => r.name),
            [],
        );
        assert.equal(nodeExec(node.name, "systemctl show containerd -p ExecMainStartTimestampMonotonic --value"), started);
    });

    it("destroy restores config.toml byte for byte and removes the drop-in", async () => {
        const planned = await plan();
        const results = await undoSteps(node.connection, planned.plan.steps, "password", SUDO_PASSWORD);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.equal(nodeExec(node.name, "cat /etc/containerd/config.toml"), KUBEADM_CONFIG);
        assert.equal(nodeExec(node.name, "test -e /etc/containerd/conf.d/99-nvidia.toml && echo present || echo gone").trim(), "gone");
        assert.equal(dump().plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.nvidia, undefined);
    });
});
