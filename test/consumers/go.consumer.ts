import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { REPO_ROOT } from "../helpers/paths";
import { Preview, Stack, engineEnv, names } from "../pulumi/engine";
import { WORK, installPlugin, packTarball } from "./packaging";

/**
 * The package from Go, for real (issue 15): examples/go-docker-host, a GpuNode from stack config, compiled against
 * the Go SDK that pulumi-gen-go (pkg/v3 v3.248.0's codegen/go) writes from schema.json and against
 * github.com/pulumi/pulumi/sdk/v3 v3.248.0, run by the Go language host built here (tools/setup-engine.sh)
 * through the nvidia-gpu plugin bundled from `npm pack`'s tarball. `pulumi preview` and `pulumi up` against its
 * own fleet node and repository server.
 */
const PORT = 2264;
const REPO_PORT = 18104;
const IMAGE = "gpu-e2e-docker";
const EXAMPLE = path.join(REPO_ROOT, "examples/go-docker-host");
const NODE = "gpu-consumer-go";

/** A copy of the example outside the repository, with the SDK generated into sdk/ (where its go.mod points). */
function goProject(): string {
    const dir = path.join(WORK, "go");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const file of ["Pulumi.yaml", "main.go", "go.mod", "go.sum"]) fs.copyFileSync(path.join(EXAMPLE, file), path.join(dir, file));
    const env = engineEnv(path.join(WORK, "go-state"));
    const run = (command: string, args: string[]) =>
        execFileSync(command, args, { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
    run("pulumi-gen-go", [path.join(REPO_ROOT, "schema.json"), path.join(dir, "sdk")]);
    // What the language host does before it runs the program, here once and on its own so a compile error reads plainly.
    run("go", ["vet", "."]);
    return dir;
}

function daemonJsonDiff(preview: Preview): string {
    const message = preview.diagnostics.map((d) => d.message).find((m) => m.includes("/etc/docker/daemon.json will change"));
    assert.ok(message, `no daemon.json diff in:\n${preview.diagnostics.map((d) => d.message).join("\n")}`);
    return message.slice(message.indexOf("/etc/docker/daemon.json")).trimEnd();
}

describe("Go consumer: examples/go-docker-host on the real engine (issue 15)", () => {
    let server: ChildProcess;
    let stack: Stack;

    before(function () {
        this.timeout(900000);
        installPlugin(packTarball());
        const node = startNode(NODE, IMAGE, PORT);
        const dir = goProject();
        const state = path.join(WORK, "go-state");
        fs.rmSync(state, { recursive: true, force: true });
        stack = new Stack(dir, "consumer", state);
        stack.init(
            {
                host: "127.0.0.1",
                port: String(PORT),
                hostKey: node.connection.hostKey!,
                toolkitVersion: "1.20.0-1",
                repoUrl: `http://127.0.0.1:${REPO_PORT}`,
                keyFingerprint: fingerprint(),
            },
            { privateKey: sshKey().privateKey },
        );
    });
    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
    });
    after(() => {
        server?.kill();
        stopNode(NODE);
    });

    it("compiles and previews the node's steps and the exact daemon.json diff, changing nothing", () => {
        const preview = stack.preview();
        // The Go program ran: its stack, under the example's project name, is what registered the node.
        assert.ok(
            preview.steps.some((s) => s.urn.includes("::nvidia-gpu-go-docker-host::pulumi:pulumi:Stack::")),
            JSON.stringify(preview.steps.map((s) => s.urn)),
        );
        assert.ok(names(preview.steps, "create").includes("gpu-docker-daemon-json"), JSON.stringify(names(preview.steps, "create")));
        const diff = daemonJsonDiff(preview);
        assert.match(diff, /\+\s+"runtimes": \{/);
        assert.match(diff, /"nvidia"/);
        assert.doesNotMatch(nodeExec(NODE, "cat /etc/docker/daemon.json 2>/dev/null || true"), /nvidia/, "the preview wrote nothing");
    });

    it("converges with `pulumi up`: the nvidia runtime in Docker, outputs readable, no credential in state", () => {
        stack.up();
        assert.match(nodeExec(NODE, "docker info --format '{{json .Runtimes}}'"), /"nvidia"/);
        const outputs = stack.outputs();
        assert.equal(outputs.toolkitVersion, "1.20.0-1");
        assert.ok((outputs.steps as string[]).includes("docker-daemon-json"), JSON.stringify(outputs.steps));
        assert.equal(outputs.dockerHost, `ssh://root@127.0.0.1:${PORT}`);
        assert.ok(!stack.exportState().includes(sshKey().privateKey.split("\n")[1]), "the private key is in the state in clear text");
    });

    it("then previews no changes", () => {
        const r = stack.expectNoChanges();
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    });
});
