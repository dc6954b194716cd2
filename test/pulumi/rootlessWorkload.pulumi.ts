import { strict as assert } from "node:assert";
import { ChildProcess, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { AS_ALICE, VFS_FOR_ALICE, startRootlessDocker } from "../e2e/fleet/hostConfigs";
import { REPO_ROOT } from "../helpers/paths";
import { Stack, stateDir, userProject } from "./engine";

/**
 * A service on a rootless user's Docker daemon through the real engine (issue 27): a GpuNode of runtime
 * docker-rootless and a DockerGpuContainer from its dockerTarget() that publishes a port serving a read-only bind
 * mount and takes a secret env value. The node has a host's /proc (hostProc). Ports (this branch's range): SSH 2704,
 * repo 18704, the published port 2782.
 */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, DockerGpuContainer, GpuNode, GpuSelection } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const node = new GpuNode("ws", {
    connection: { host: "127.0.0.1", port: 2704, user: "root", privateKey: cfg.requireSecret("privateKey"), hostKey: cfg.require("hostKey") },
    runtime: ContainerRuntime.DockerRootless,
    rootlessUser: "alice",
    toolkit: { version: "1.20.0-1", repoUrl: "http://127.0.0.1:18704", keyFingerprint: cfg.require("keyFingerprint") },
});
new DockerGpuContainer("web", {
    ...node.dockerTarget(),
    image: "mini:1",
    gpuSelection: GpuSelection.Runtime,
    networkMode: "wl27",
    ports: [{ internal: 8080, external: 2782, ip: "127.0.0.1" }],
    volumes: [{ containerPath: "/www", hostPath: "/home/alice/www", readOnly: true }],
    shmSize: cfg.requireNumber("shmSize"),
    secretEnv: { API_TOKEN: cfg.requireSecret("apiToken") },
    args: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
});
`;
const TOKEN = "tok-27-pulumi-9c1d";

describe("pulumi engine: a DockerGpuContainer on a rootless user's daemon, with a port, a bind mount and a secret (issue 27)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    let stack: Stack;
    const alice = (cmd: string) => nodeExec(node.name, `${AS_ALICE} ${cmd}`);
    const fetch = () => {
        let body = "";
        for (let i = 0; i < 20 && body === ""; i++) {
            body = spawnSync("curl", ["-fsS", "--max-time", "2", "http://127.0.0.1:2782/index.html"], { encoding: "utf8" }).stdout;
            if (body === "") spawnSync("sleep", ["0.5"]);
        }
        return body;
    };

    before(async () => {
        server = await startRepoServer(REPO_DIR, 18704);
        node = startNode("gpu-pulumi-rootless-wl", "gpu-e2e-rootless", 2704, "", { hostProc: true });
        startRootlessDocker(nodeExec, node.name);
        nodeExec(
            node.name,
            `${VFS_FOR_ALICE} && ${AS_ALICE} systemctl --user restart docker && ${AS_ALICE} sh -c 'until docker info >/dev/null 2>&1; do sleep 1; done'`,
        );
        fs.mkdirSync(path.join(REPO_ROOT, ".tmp"), { recursive: true });
        fs.writeFileSync(path.join(REPO_ROOT, ".tmp/busybox"), fs.readFileSync("/bin/busybox"), { mode: 0o755 });
        spawnSync("docker", ["cp", path.join(REPO_ROOT, ".tmp/busybox"), `${node.name}:/opt/busybox`]);
        nodeExec(
            node.name,
            "mkdir -p /opt/mini/bin && install -m 755 /opt/busybox /opt/mini/bin/busybox && tar -C /opt/mini -cf /opt/mini.tar . && chmod 644 /opt/mini.tar",
        );
        alice("docker import /opt/mini.tar mini:1 >/dev/null");
        // A named network in alice's own namespace (her daemon has no default bridge), so the port can be published.
        alice("docker network create wl27 >/dev/null");
        nodeExec(node.name, "runuser -u alice -- sh -c 'mkdir -p ~/www && echo hello-through-pulumi > ~/www/index.html'");
        stack = new Stack(userProject("rootless-workload", PROGRAM), "test", stateDir("rootless-workload"));
        stack.init({ hostKey: node.connection.hostKey!, keyFingerprint: fingerprint(), shmSize: "128" }, { privateKey: sshKey().privateKey, apiToken: TOKEN });
    });
    after(() => {
        server?.kill();
        stopNode("gpu-pulumi-rootless-wl");
    });

    it("up runs the container on alice's daemon (not root's): the port serves her bind mount, the secret is in the container only", () => {
        const up = stack.up();
        assert.ok(!(up.stdout + up.stderr).includes(TOKEN), "the secret is in no engine output");
        assert.match(alice("docker ps --format '{{.Names}} {{.Ports}}'"), /^web 127\.0\.0\.1:2782->8080\/tcp/m);
        assert.equal(nodeExec(node.name, "docker ps -q 2>/dev/null || true").trim(), "", "root's daemon is off and ran nothing");
        assert.equal(fetch(), "hello-through-pulumi\n");
        assert.equal(alice("docker exec web /bin/busybox sh -c 'echo $API_TOKEN'").trim(), TOKEN);
        assert.ok(!stack.exportState().includes(TOKEN), "the state holds the secret encrypted only");
        assert.equal(stack.expectNoChanges().code, 0, "a converged stack previews clean");
    });

    it("a changed option replaces the container; destroy removes it from alice's daemon", () => {
        const before = alice("docker inspect -f '{{.Id}}' web").trim();
        stack.setConfig("shmSize", "256");
        stack.up();
        assert.notEqual(alice("docker inspect -f '{{.Id}}' web").trim(), before);
        assert.match(alice("docker exec web /bin/busybox df -m /dev/shm"), /\s256\s/);
        assert.equal(fetch(), "hello-through-pulumi\n");
        stack.destroy();
        assert.equal(alice("docker ps -aq --filter name=^web$").trim(), "");
        stack.remove();
    });
});
