import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import { watchedFiles } from "../../components/gpuNode";
import { nodePlan } from "../../sdk/node/nodePlan";
import { nodeSpecOf } from "../../sdk/node/nodeSpec";
import { FleetNode, REPO_DIR, failed, applySteps, fingerprint, nodeExec, snapshot, startNode, startRepoServer, stopNode, undoSteps } from "./fleet";

const REPO_PORT = 18084;

describe("e2e: a bare node (no container runtime): toolkit and CDI spec, for Podman or CDI mode", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    const spec = () =>
        nodeSpecOf({
            runtime: "cdi",
            toolkit: { version: "1.20.0-1", repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
        });

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        node = startNode("gpu-e2e-bare1", "gpu-e2e-base", 2206);
    });
    after(() => {
        server?.kill();
        stopNode("gpu-e2e-bare1");
    });

    it("reads the host only with its pinned host key: another key is refused, any of the host's own keys works", async () => {
        const wrong = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq1TttAaN0KoqE5yb7ikmJRx9HfsZzV6pDsh";
        await assert.rejects(snapshot({ ...node.connection, hostKey: wrong }, []), /host key is not the pinned connection\.hostKey/);
        // The host also has an RSA key: pinned, the server is asked for that type and presents it.
        const rsa = nodeExec(node.name, "cat /etc/ssh/ssh_host_rsa_key.pub").trim().split(/\s+/).slice(0, 2).join(" ");
        assert.equal((await snapshot({ ...node.connection, hostKey: rsa }, [])).facts.os.id, "debian");
        assert.equal((await snapshot(node.connection, [])).facts.os.id, "debian");
    });

    it("installs the toolkit from nothing, writes the CDI spec, and destroy leaves no package, key or repo behind", async () => {
        const planned = nodePlan(await snapshot(node.connection, watchedFiles(spec())), spec());
        assert.deepEqual(
            planned.plan.steps.map((s) => s.name),
            ["toolkit-prerequisites", "toolkit-key", "toolkit-repo", "toolkit-packages", "cdi-spec"],
        );
        const results = await applySteps(node.connection, planned.plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.match(nodeExec(node.name, "cat /var/run/cdi/nvidia.yaml"), /kind: nvidia.com\/gpu/);
        assert.match(results.find((r) => r.name === "cdi-spec")!.stdout, /cdi-device nvidia\.com\/gpu=all/);
        const undone = await undoSteps(node.connection, planned.plan.steps);
        assert.equal(failed(undone), undefined, JSON.stringify(failed(undone)));
        assert.equal(nodeExec(node.name, "dpkg-query -W -f '${db:Status-Abbrev}\\n' nvidia-container-toolkit 2>/dev/null | grep -c '^ii' || true").trim(), "0");
        assert.equal(
            nodeExec(
                node.name,
                "ls /etc/apt/sources.list.d/nvidia-container-toolkit.list /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg /var/run/cdi/nvidia.yaml 2>/dev/null | wc -l",
            ).trim(),
            "0",
        );
    });
});
