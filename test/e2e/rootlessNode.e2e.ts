import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import { watchedFiles } from "../../components/gpuNode";
import { nodePlan } from "../../sdk/node/nodePlan";
import { nodeSpecOf } from "../../sdk/node/nodeSpec";
import { FleetNode, REPO_DIR, failed, applySteps, fingerprint, nodeExec, snapshot, startNode, startRepoServer, stopNode, undoSteps } from "./fleet";
import { AS_ALICE, USER_DAEMON_JSON, startRootlessDocker } from "./fleet/hostConfigs";

const REPO_PORT = 18083;

describe("e2e: rootless Docker of a user (systemctl --user, CDI)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    const spec = () =>
        nodeSpecOf({
            runtime: "docker-rootless",
            rootlessUser: "alice",
            toolkit: { version: "1.20.0-1", repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
        });
    async function plan() {
        return nodePlan(await snapshot(node.connection, watchedFiles(spec())), spec());
    }

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        node = startNode("gpu-e2e-rootless1", "gpu-e2e-rootless", 2205);
        startRootlessDocker(nodeExec, node.name);
    });
    after(() => {
        server?.kill();
        stopNode("gpu-e2e-rootless1");
    });

    it("writes the user's daemon.json as the user, restarts the user's daemon, and leaves no-cgroups alone", async () => {
        const planned = await plan();
        const results = await applySteps(node.connection, planned.plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        const json = JSON.parse(nodeExec(node.name, "cat /home/alice/.config/docker/daemon.json"));
        assert.equal(json.bridge, "none");
        assert.deepEqual(json.runtimes.nvidia, { path: "nvidia-container-runtime", args: [] });
        assert.equal(nodeExec(node.name, "stat -c %U /home/alice/.config/docker/daemon.json").trim(), "alice");
        assert.match(results.find((r) => r.name === "docker-rootless-restart")!.stdout, /restarted rootless docker/);
        const info = nodeExec(node.name, `${AS_ALICE} docker info --format '{{json .Runtimes}} {{json .SecurityOptions}}'`);
        assert.match(info, /"nvidia"/);
        assert.match(info, /rootless/);
        // GPUs through CDI: the host-wide no-cgroups stays as it was (NVIDIA/nvidia-container-toolkit#85).
        assert.doesNotMatch(nodeExec(node.name, "cat /etc/nvidia-container-runtime/config.toml"), /^no-cgroups/m);
    });

    it("re-applies without restarting the user's daemon", async () => {
        const results = await applySteps(node.connection, (await plan()).plan.steps);
        assert.equal(failed(results), undefined);
        assert.match(results.find((r) => r.name === "docker-rootless-restart")!.stdout, /^unchanged/);
        assert.match(results.find((r) => r.name === "docker-rootless-daemon-json")!.stdout, /^unchanged/);
    });

    it("destroy restores the user's daemon.json byte for byte", async () => {
        const results = await undoSteps(node.connection, (await plan()).plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.equal(nodeExec(node.name, "cat /home/alice/.config/docker/daemon.json"), USER_DAEMON_JSON);
    });
});
