import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { Stack, names, stateDir, userProject } from "./engine";
import { USER_PROGRAM } from "./programs";

const REPO_PORT = 18095;
const ORIGINAL = '{\n  "log-driver": "json-file",\n  "bridge": "none",\n  "iptables": false,\n  "ip-masq": false\n}\n';
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

const daemonPid = (node: FleetNode) => nodeExec(node.name, "systemctl show -p MainPID --value docker").trim();
const daemonJson = (node: FleetNode) => nodeExec(node.name, "cat /etc/docker/daemon.json");

describe("pulumi engine: a Docker node, preview → up → drift → up → destroy → up (issue 12)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    let stack: Stack;

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        node = startNode(
            "gpu-pulumi-docker",
            "gpu-e2e-docker",
            2221,
            [
                `printf '%s' '${ORIGINAL.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > /etc/docker/daemon.json`,
                "systemctl restart docker",
                "until docker info >/dev/null 2>&1; do sleep 1; done",
            ].join(" && "),
        );
        assert.equal(daemonJson(node), ORIGINAL);
        const dir = userProject("docker-lifecycle", USER_PROGRAM);
        stack = new Stack(dir, "docker", stateDir("docker-lifecycle"));
        stack.init(
            {
                host: "127.0.0.1",
                port: "2221",
                hostKey: node.connection.hostKey!,
                toolkitVersion: "1.20.0-1",
                repoUrl: `http://127.0.0.1:${REPO_PORT}`,
                keyFingerprint: fingerprint(),
            },
            { privateKey: sshKey().privateKey },
        );
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
        assert.equal(
            report!.slice(report!.indexOf("---")).trimEnd(),
            [
                "--- a/etc/docker/daemon.json",
                "+++ b/etc/docker/daemon.json",
                "@@ -2,5 +2,11 @@",
                '   "log-driver": "json-file",',
                '   "bridge": "none",',
                '   "iptables": false,',
                '-  "ip-masq": false',
                '+  "ip-masq": false,',
                '+  "runtimes": {',
                '+    "nvidia": {',
                '+      "path": "nvidia-container-runtime",',
                '+      "args": []',
                "+    }",
                "+  }",
                " }",
            ].join("\n"),
            "the exact bytes that will land",
        );
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
        assert.equal(outputs.dockerHost, "ssh://root@127.0.0.1:2221");
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

describe("pulumi engine: workloads on a fresh Docker node (issue 12)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    const config = (port: number, hostKey: string) => ({
        host: "127.0.0.1",
        port: String(port),
        hostKey,
        toolkitVersion: "1.20.0-1",
        repoUrl: `http://127.0.0.1:${REPO_PORT}`,
        keyFingerprint: fingerprint(),
    });

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        node = startNode("gpu-pulumi-fresh", "gpu-e2e-docker", 2222, "until docker info >/dev/null 2>&1; do sleep 1; done");
        // A tiny image without a registry: a static busybox imported into the node's Docker.
        fs.writeFileSync(path.join(REPO_ROOT, ".tmp/busybox"), fs.readFileSync("/bin/busybox"), { mode: 0o755 });
        require("node:child_process").execFileSync("docker", ["cp", path.join(REPO_ROOT, ".tmp/busybox"), `${node.name}:/root/busybox`]);
        nodeExec(node.name, "mkdir -p /root/mini/bin && cp /root/busybox /root/mini/bin/busybox && tar -C /root/mini -c . | docker import - mini:1 >/dev/null");
    });
    after(() => {
        server?.kill();
        stopNode("gpu-pulumi-fresh");
    });

    it("8. an incompatible CUDA image on a node with a pinned driver fails at preview, naming both versions", () => {
        const dir = userProject("incompatible-image", USER_PROGRAM);
        const stack = new Stack(dir, "cuda", stateDir("incompatible-image"));
        stack.init(
            { ...config(2222, node.connection.hostKey!), driverVersion: "535.216.01", containerImage: "nvidia/cuda:13.0.2-base-ubuntu24.04" },
            { privateKey: sshKey().privateKey },
        );
        const failure = stack.previewFailure();
        const text = `${failure.stdout}\n${failure.stderr}`;
        assert.match(text, /nvidia\/cuda:13\.0\.2-base-ubuntu24\.04 needs NVIDIA driver ≥ 580\.\d+\.\d+ for CUDA 13\.0\.2, but the node has 535\.216\.01/);
        assert.equal(nodeExec(node.name, "ls /var/lib/pulumi-nvidia-gpu 2>/dev/null || true"), "", "nothing ran on the host");
        stack.remove();
    });

    it("7. a DockerGpuContainer on a fresh node starts only after the node's last step", () => {
        const dir = userProject("fresh-container", USER_PROGRAM);
        const stack = new Stack(dir, "fresh", stateDir("fresh-container"));
        stack.init({ ...config(2222, node.connection.hostKey!), containerImage: "mini:1" }, { privateKey: sshKey().privateKey });
        // --runtime=nvidia fails with "unknown runtime" unless daemon.json and the restart came first.
        stack.up();
        assert.match(nodeExec(node.name, "docker inspect -f '{{.HostConfig.Runtime}} {{.State.Running}}' app"), /^nvidia true/);
        const state = JSON.parse(stack.exportState()) as { deployment: { resources: Array<{ urn: string; dependencies?: string[] }> } };
        const byName = (n: string) => state.deployment.resources.find((r) => r.urn.endsWith(`::${n}`))!;
        assert.ok(
            byName("app-container-app").dependencies?.some((d) => d.endsWith("::gpu-verify-runtimes")),
            `the container command depends on the node's last step: ${JSON.stringify(byName("app-container-app").dependencies)}`,
        );
        stack.destroy();
        assert.equal(nodeExec(node.name, "docker ps -aq --filter name=^app$").trim(), "", "destroy removed the container");
        stack.remove();
    });
});
