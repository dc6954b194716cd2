import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { Stack, names, stateDir, userProject } from "./engine";

const REPO_PORT = 18090;
const ORIGINAL = '{\n  "log-driver": "json-file",\n  "bridge": "none",\n  "iptables": false,\n  "ip-masq": false\n}\n';
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** A user's program: one GpuNode from stack config, the way the README shows it. */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, GpuNode } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const node = new GpuNode("gpu", {
    connection: {
        host: cfg.require("host"),
        port: cfg.requireNumber("port"),
        user: cfg.get("user") ?? "root",
        privateKey: cfg.requireSecret("privateKey"),
        hostKey: cfg.require("hostKey"),
        sudoPassword: cfg.getSecret("sudoPassword"),
    },
    runtime: (cfg.get("runtime") ?? "docker") as ContainerRuntime,
    rootlessUser: cfg.get("rootlessUser"),
    setAsDefault: cfg.getBoolean("setAsDefault") ?? false,
    toolkit: { version: cfg.require("toolkitVersion"), repoUrl: cfg.require("repoUrl"), keyFingerprint: cfg.require("keyFingerprint") },
});
export const steps = node.steps;
export const gpus = node.gpus;
export const dockerHost = node.dockerHost;
export const toolkitVersion = node.toolkitVersion;
`;

const daemonPid = (node: FleetNode) => nodeExec(node.name, "systemctl show -p MainPID --value docker").trim();
const daemonJson = (node: FleetNode) => nodeExec(node.name, "cat /etc/docker/daemon.json");

describe("pulumi engine: a Docker node, preview → up → drift → up → destroy → up (issue 12)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    let stack: Stack;

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        node = startNode("gpu-pulumi-docker", "gpu-e2e-docker", 2211, [
            `printf '%s' '${ORIGINAL.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > /etc/docker/daemon.json`,
            "systemctl restart docker",
            "until docker info >/dev/null 2>&1; do sleep 1; done",
        ].join(" && "));
        assert.equal(daemonJson(node), ORIGINAL);
        const dir = userProject("docker-lifecycle", PROGRAM);
        stack = new Stack(dir, "docker", stateDir("docker-lifecycle"));
        stack.init({
            host: "127.0.0.1", port: "2211", hostKey: node.connection.hostKey!, toolkitVersion: "1.20.0-1",
            repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint(),
        }, { privateKey: sshKey().privateKey });
    });
    after(() => {
        server?.kill();
        stopNode("gpu-pulumi-docker");
    });

    it("1. preview prints the exact file diff and changes nothing on the host", () => {
        const preview = stack.preview();
        assert.ok(names(preview.steps, "create").includes("gpu-docker-daemon-json"), JSON.stringify(names(preview.steps, "create")));
        const report = preview.diagnostics.map((d) => d.message).find((m) => m.includes("/etc/docker/daemon.json will change"));
        assert.ok(report, preview.diagnostics.map((d) => d.message).join("\n"));
        assert.equal(report!.slice(report!.indexOf("---")), [
            "--- a/etc/docker/daemon.json", "+++ b/etc/docker/daemon.json", "@@ -2,5 +2,11 @@",
            '   "log-driver": "json-file",', '   "bridge": "none",', '   "iptables": false,', '-  "ip-masq": false', '+  "ip-masq": false,',
            '+  "runtimes": {', '+    "nvidia": {', '+      "path": "nvidia-container-runtime",', '+      "args": []', "+    }", "+  }", " }", "",
        ].join("\n"), "the exact bytes that will land");
        assert.equal(daemonJson(node), ORIGINAL, "the preview wrote nothing");
        assert.equal(nodeExec(node.name, "ls /var/lib/pulumi-nvidia-gpu 2>/dev/null || true"), "", "the preview left no state on the host");
    });

    it("2. up converges, and 3. an immediate preview --expect-no-changes passes", () => {
        stack.up();
        assert.match(nodeExec(node.name, "docker info --format '{{json .Runtimes}}'"), /"nvidia"/);
        assert.deepEqual(JSON.parse(daemonJson(node)).runtimes.nvidia, { args: [], path: "nvidia-container-runtime" });
        const again = stack.expectNoChanges();
        assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    });

    it("4. a hand revert shows in preview, up repairs it (docker restarted), and preview is clean again", () => {
        const applied = daemonJson(node);
        nodeExec(node.name, `printf '%s' '${ORIGINAL.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > /etc/docker/daemon.json`);
        const preview = stack.preview();
        assert.deepEqual(names(preview.steps, "update"), ["gpu-docker-daemon-json", "gpu-docker-restart", "gpu-verify-runtimes"]);
        const pid = daemonPid(node);
        stack.up();
        assert.equal(daemonJson(node), applied, "repaired byte for byte");
        assert.notEqual(daemonPid(node), pid, "docker was restarted with the repaired file");
        const clean = stack.expectNoChanges();
        assert.equal(clean.code, 0, `${clean.stdout}\n${clean.stderr}`);
    });

    it("5. changing one arg (setAsDefault) updates only the affected steps", () => {
        stack.setConfig("setAsDefault", "true");
        const preview = stack.preview();
        assert.deepEqual(names(preview.steps, "update"), ["gpu-docker-daemon-json", "gpu-docker-restart", "gpu-verify-runtimes"]);
        assert.deepEqual(names(preview.steps, "create", "delete", "replace", "create-replacement", "delete-replaced"), []);
        stack.up();
        assert.equal(JSON.parse(daemonJson(node))["default-runtime"], "nvidia");
        assert.equal(stack.expectNoChanges().code, 0);
    });

    it("9. the state holds no private key or sudo password in plain text, and outputs stay readable", () => {
        const state = stack.exportState();
        assert.equal(state.includes(sshKey().privateKey.split("\n")[1]), false, "no private key material in the state");
        assert.equal(state.includes("BEGIN OPENSSH PRIVATE KEY"), false);
        const outputs = stack.outputs();
        assert.ok(Array.isArray(outputs.steps) && (outputs.steps as string[]).includes("docker-daemon-json"), JSON.stringify(outputs));
        assert.equal(outputs.dockerHost, "ssh://root@127.0.0.1:2211");
        assert.deepEqual(outputs.gpus, []);
    });

    it("6. destroy restores every file byte for byte; up again converges and restarts docker; destroy again", () => {
        stack.destroy();
        assert.equal(daemonJson(node), ORIGINAL, "daemon.json restored byte for byte");
        assert.equal(sha(daemonJson(node)), sha(ORIGINAL));
        const pid = daemonPid(node);
        stack.up();
        assert.notEqual(daemonPid(node), pid, "the second create restarted docker");
        assert.match(nodeExec(node.name, "docker info --format '{{json .Runtimes}}'"), /"nvidia"/);
        assert.equal(stack.expectNoChanges().code, 0);
        stack.destroy();
        assert.equal(daemonJson(node), ORIGINAL);
        assert.equal(fs.existsSync(path.join(REPO_ROOT, ".tmp")), true);
    });
});
