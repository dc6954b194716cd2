import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { REPO_ROOT } from "../helpers/paths";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { Stack, stateDir } from "./engine";

const REPO_PORT = 18097;
const ORIGINAL = '{\n  "bridge": "none",\n  "iptables": false\n}\n';

describe("pulumi engine: the root program (Pulumi.yaml and a stack file) on a Docker node (issue 12)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    let stack: Stack;
    const daemonJson = () => nodeExec(node.name, "cat /etc/docker/daemon.json");

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        node = startNode(
            "gpu-pulumi-root",
            "gpu-e2e-docker",
            2226,
            [
                `printf '%s' '${ORIGINAL.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > /etc/docker/daemon.json`,
                "systemctl restart docker",
                "until docker info >/dev/null 2>&1; do sleep 1; done",
            ].join(" && "),
        );
        // The stack file lives outside the checkout (--config-file): the repository stays untouched.
        const configFile = path.join(REPO_ROOT, ".tmp/pulumi-e2e/Pulumi.root.yaml");
        fs.mkdirSync(path.dirname(configFile), { recursive: true });
        fs.writeFileSync(
            configFile,
            YAML.stringify({
                config: {
                    "nvidia-gpu-fleet:nodes": [
                        {
                            name: "docker-1",
                            host: "127.0.0.1",
                            port: 2226,
                            user: "root",
                            hostKey: node.connection.hostKey,
                            runtime: "docker",
                            toolkit: { version: "1.20.0-1", repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
                        },
                    ],
                },
            }),
        );
        stack = new Stack(REPO_ROOT, "root", stateDir("root-program"), configFile);
        stack.init({}, { privateKey: sshKey().privateKey });
    });
    after(() => {
        server?.kill();
        stopNode("gpu-pulumi-root");
    });

    it("previews the diff, converges on up, previews clean, exports readable node outputs, and destroy restores the file", () => {
        const preview = stack.preview();
        assert.ok(
            preview.diagnostics.some((d) => d.message.includes("/etc/docker/daemon.json will change")),
            preview.diagnostics.map((d) => d.message).join("\n"),
        );
        assert.equal(daemonJson(), ORIGINAL);
        stack.up();
        assert.match(nodeExec(node.name, "docker info --format '{{json .Runtimes}}'"), /"nvidia"/);
        assert.equal(stack.expectNoChanges().code, 0);
        const outputs = stack.outputs() as { nodes: Record<string, { runtimes: string[]; gpus: unknown[]; dockerHost: string }> };
        assert.deepEqual(outputs.nodes["docker-1"].runtimes, ["docker"], JSON.stringify(outputs));
        assert.deepEqual(outputs.nodes["docker-1"].gpus, [], "readable, not [secret]");
        assert.equal(outputs.nodes["docker-1"].dockerHost, "ssh://root@127.0.0.1:2226");
        assert.equal(stack.exportState().includes("BEGIN OPENSSH PRIVATE KEY"), false);
        stack.destroy();
        assert.equal(daemonJson(), ORIGINAL);
        stack.remove();
    });
});
