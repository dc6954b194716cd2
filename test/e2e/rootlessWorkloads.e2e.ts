import { strict as assert } from "node:assert";
import { ChildProcess, spawnSync } from "node:child_process";
import { watchedFiles } from "../../components/gpuNode";
import { DockerContainerSpec, dockerContainerStep } from "../../sdk/workloads/dockerContainer";
import { rootlessCliConfigPath, rootlessContextFindings } from "../../sdk/runtime/dockerHostAccess";
import { rootlessDaemonJsonPath } from "../../sdk/validate";
import { NodeSpec, nodePlan } from "../../sdk/node/nodePlan";
import { dockerHost } from "../../sdk/runtime/dockerHost";
import { FleetNode, REPO_DIR, applySteps, failed, fingerprint, nodeExec, snapshot, startNode, startRepoServer, stopNode, undoSteps } from "./fleet";
import { remoteDockerCli } from "./remoteDocker";
import { IMAGE, importMini } from "./workloadImages";
import { AS_ALICE, VFS_FOR_ALICE, startRootlessDocker } from "./fleet/hostConfigs";

/**
 * A rootless user's daemon through DockerGpuContainer's step (issue 27): a published port serving a read-only bind
 * mount, driven over the node's SSH and as remote Docker from this machine. The node has a host's /proc (hostProc).
 * Ports (this branch's range): SSH 2702, repo 18702, the published port 2780.
 */
describe("e2e: a rootless user's daemon: a published port serving a read-only bind mount, and remote Docker over SSH", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    const spec = (): NodeSpec => ({
        runtime: "docker-rootless",
        rootlessUser: "alice",
        toolkit: { version: "1.20.0-1", repoUrl: "http://127.0.0.1:18702", keyFingerprint: fingerprint() },
    });
    const web: DockerContainerSpec = {
        name: "web",
        image: IMAGE,
        mode: "runtime",
        rootlessUser: "alice",
        args: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
        options: {
            networkMode: "wl27",
            ports: [{ internal: 8080, external: 2780, ip: "127.0.0.1" }],
            volumes: [{ containerPath: "/www", hostPath: "/home/alice/www", readOnly: true }],
        },
    };

    before(async () => {
        server = await startRepoServer(REPO_DIR, 18702);
        node = startNode("gpu-e2e-rootless-wl", "gpu-e2e-rootless", 2702, "", { hostProc: true });
        startRootlessDocker(nodeExec, node.name);
        // No iptables inside rootlesskit's namespace here: startRootlessDocker's setup tool (--skip-iptables) already
        // starts dockerd with --iptables=false; the same key in daemon.json too makes dockerd refuse to start.
        // The fleet's nodes have no /dev/fuse, so alice's daemon cannot run a container on fuse-overlayfs ("fuse: device
        // not found"): vfs storage (a user key of her daemon.json, which the plan keeps).
        nodeExec(
            node.name,
            `${VFS_FOR_ALICE} && ${AS_ALICE} systemctl --user restart docker && ${AS_ALICE} sh -c 'until docker info >/dev/null 2>&1; do sleep 1; done'`,
        );
        const planned = nodePlan(await snapshot(node.connection, watchedFiles(spec())), spec());
        const results = await applySteps(node.connection, planned.plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        await importMini(node, true);
        // A named network inside the user's own network namespace (rootlesskit's), so the port can be published.
        nodeExec(
            node.name,
            `${AS_ALICE} docker network create wl27 >/dev/null; runuser -u alice -- sh -c 'mkdir -p ~/www && echo hello-from-alice > ~/www/index.html'`,
        );
    });
    after(() => {
        server?.kill();
        stopNode("gpu-e2e-rootless-wl");
    });

    it("runs the container on alice's daemon, not root's, and serves the bind mount on 127.0.0.1:2780", async () => {
        const results = await applySteps(node.connection, [dockerContainerStep(web)]);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        assert.match(nodeExec(node.name, `${AS_ALICE} docker ps --format '{{.Names}} {{.Ports}}'`), /^web 127\.0\.0\.1:2780->8080\/tcp/m);
        let body = "";
        for (let i = 0; i < 20 && body === ""; i++) {
            body = spawnSync("curl", ["-fsS", "--max-time", "2", "http://127.0.0.1:2780/index.html"], { encoding: "utf8" }).stdout;
            if (body === "") spawnSync("sleep", ["0.5"]);
        }
        assert.equal(body, "hello-from-alice\n");
        assert.match((await applySteps(node.connection, [dockerContainerStep(web)]))[0].stdout, /unchanged: container web/);
    });

    it("remote Docker: ssh://alice@… needs alice's context (docker context use rootless); then docker context create … --docker host=… works from this machine", async () => {
        const cli = remoteDockerCli();
        nodeExec(node.name, `mkdir -p /home/alice/.ssh && cp /root/.ssh/authorized_keys /home/alice/.ssh/ && chown -R alice:alice /home/alice/.ssh`);
        try {
            // node.dockerHost of a docker-rootless node: ssh://alice@…
            cli.createContext("gpu-wl", dockerHost(spec(), node.connection));
            const cliConfig = rootlessCliConfigPath(rootlessDaemonJsonPath("alice", undefined));
            const findings = async () => {
                const snap = await snapshot(node.connection, [{ path: cliConfig, userOwned: true }]);
                return rootlessContextFindings("alice", snap.files[cliConfig]).map((f) => f.id);
            };
            // dockerd-rootless-setuptool.sh switched alice to its `rootless` context; a user set up otherwise has none.
            nodeExec(node.name, `${AS_ALICE} docker context use default >/dev/null 2>&1`);
            // Without a context of her own, alice's SSH session talks to /var/run/docker.sock: the rootful daemon, off here.
            const before = cli.docker("--context", "gpu-wl", "ps", "--format", "{{.Names}}");
            assert.notEqual(before.status, 0);
            assert.match(before.stderr, /docker\.sock|Cannot connect|permission denied/i);
            assert.deepEqual(await findings(), ["docker-host-context"], "the preview says what is missing");
            nodeExec(node.name, `${AS_ALICE} docker context use rootless >/dev/null`);
            assert.deepEqual(await findings(), []);
            const after = cli.docker("--context", "gpu-wl", "ps", "--format", "{{.Names}}");
            assert.equal(after.status, 0, after.stderr);
            assert.match(after.stdout, /^web$/m);
        } finally {
            cli.cleanup();
        }
    });

    it("destroy removes the container from alice's daemon", async () => {
        const removed = await undoSteps(node.connection, [dockerContainerStep(web)]);
        assert.equal(failed(removed), undefined);
        assert.equal(nodeExec(node.name, `${AS_ALICE} docker ps -a -q --filter name=web`).trim(), "");
    });
});
