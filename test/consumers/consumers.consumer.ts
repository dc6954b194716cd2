import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { REPO_ROOT } from "../helpers/paths";
import { Preview, Stack, names } from "../pulumi/engine";
import { PULUMI_TEMPLATE_TSCONFIG } from "../package/pulumiTemplate";
import { WORK, installPlugin, npmInstall, packTarball, packageVersion, projectDir, pythonEnvironment, typeCheck } from "./packaging";

/**
 * The package from each language, for real: `npm pack`'s tarball installed into a TypeScript project outside the
 * repository, and the same components from a YAML and a Python program through the provider plugin bundled
 * from that tarball. Each runs `pulumi preview` and `pulumi up` with the engine built here against its own fleet
 * node, and all must show the same diff of /etc/docker/daemon.json.
 */
const REPO_PORT = 18099;
const PULUMI_VERSION = "3.248.0";
const IMAGE = "gpu-e2e-docker";

const TS_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { GpuNode } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const node = new GpuNode("gpu", {
    connection: { host: cfg.require("host"), port: cfg.requireNumber("port"), privateKey: cfg.requireSecret("privateKey"), hostKey: cfg.require("hostKey") },
    toolkit: { version: cfg.require("toolkitVersion"), repoUrl: cfg.require("repoUrl"), keyFingerprint: cfg.require("keyFingerprint") },
});
export const steps = node.steps;
export const toolkitVersion = node.toolkitVersion;
export const dockerHost = node.dockerHost;
`;

const YAML_PROGRAM = `name: consumer-yaml
runtime: yaml
config:
  host: { type: string }
  port: { type: integer }
  privateKey: { type: string, secret: true }
  hostKey: { type: string }
  toolkitVersion: { type: string }
  repoUrl: { type: string }
  keyFingerprint: { type: string }
resources:
  gpu:
    type: nvidia-gpu:index:GpuNode
    properties:
      connection:
        host: \${host}
        port: \${port}
        privateKey: \${privateKey}
        hostKey: \${hostKey}
      toolkit:
        version: \${toolkitVersion}
        repoUrl: \${repoUrl}
        keyFingerprint: \${keyFingerprint}
outputs:
  steps: \${gpu.steps}
  toolkitVersion: \${gpu.toolkitVersion}
  dockerHost: \${gpu.dockerHost}
`;

const PYTHON_PROGRAM = `import pulumi
import pulumi_nvidia_gpu as gpu

cfg = pulumi.Config()
node = gpu.GpuNode(
    "gpu",
    connection={
        "host": cfg.require("host"),
        "port": cfg.require_int("port"),
        "private_key": cfg.require_secret("privateKey"),
        "host_key": cfg.require("hostKey"),
    },
    toolkit={
        "version": cfg.require("toolkitVersion"),
        "repo_url": cfg.require("repoUrl"),
        "key_fingerprint": cfg.require("keyFingerprint"),
    },
)
pulumi.export("steps", node.steps)
pulumi.export("toolkitVersion", node.toolkit_version)
pulumi.export("dockerHost", node.docker_host)
`;

interface Consumer {
    language: string;
    port: number;
    /** Writes the project and installs what it needs; returns its folder, and what to add to PATH. */
    project: (tarball: string) => { dir: string; path?: string };
}

const CONSUMERS: Consumer[] = [
    {
        language: "typescript",
        port: 2261,
        project: (tarball) => {
            const dir = projectDir("typescript", {
                "Pulumi.yaml": "name: consumer-typescript\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
                "package.json": JSON.stringify(
                    {
                        name: "consumer-typescript",
                        private: true,
                        main: "index.ts",
                        dependencies: { "pulumi-nvidia-gpu": `file:${tarball}`, "@pulumi/pulumi": PULUMI_VERSION },
                        devDependencies: { typescript: "5.9.3", "ts-node": "10.9.2", "@types/node": "20.19.43" },
                    },
                    null,
                    2,
                ),
                // Pulumi's template tsconfig: no esModuleInterop, no skipLibCheck (issue 26).
                "tsconfig.json": JSON.stringify(PULUMI_TEMPLATE_TSCONFIG, null, 2),
                "index.ts": TS_PROGRAM,
            });
            npmInstall(dir);
            typeCheck(dir);
            return { dir };
        },
    },
    { language: "yaml", port: 2262, project: () => ({ dir: projectDir("yaml", { "Pulumi.yaml": YAML_PROGRAM }) }) },
    {
        language: "python",
        port: 2263,
        project: () => {
            // The virtualenv is activated (PATH), not named in Pulumi.yaml: the v3.68.0 host reads `virtualenv` only
            // from its command line, where the 3.248 CLI no longer puts runtime options.
            const dir = projectDir("python", { "Pulumi.yaml": "name: consumer-python\nruntime: python\n", "__main__.py": PYTHON_PROGRAM });
            const venv = pythonEnvironment(dir, path.join(REPO_ROOT, "schema.json"), PULUMI_VERSION);
            return { dir, path: path.join(venv, "bin") };
        },
    },
];

/** The preview's report of daemon.json's diff, without the resource name that starts it. */
function daemonJsonDiff(preview: Preview): string {
    const message = preview.diagnostics.map((d) => d.message).find((m) => m.includes("/etc/docker/daemon.json will change"));
    assert.ok(message, `no daemon.json diff in:\n${preview.diagnostics.map((d) => d.message).join("\n")}`);
    return message.slice(message.indexOf("/etc/docker/daemon.json")).trimEnd();
}

describe("consumers of the packed package, on the real engine (issue 15)", () => {
    let server: ChildProcess;
    let tarball: string;
    const diffs = new Map<string, string>();

    before(function () {
        this.timeout(900000);
        fs.rmSync(WORK, { recursive: true, force: true });
        tarball = packTarball();
        installPlugin(tarball);
    });
    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
    });
    after(() => {
        server?.kill();
        for (const c of CONSUMERS) stopNode(`gpu-consumer-${c.language}`);
    });

    for (const consumer of CONSUMERS) {
        describe(consumer.language, () => {
            const nodeName = `gpu-consumer-${consumer.language}`;
            let stack: Stack;

            before(function () {
                this.timeout(900000);
                const node = startNode(nodeName, IMAGE, consumer.port);
                const project = consumer.project(tarball);
                stack = new Stack(project.dir, "consumer", path.join(WORK, `${consumer.language}-state`));
                if (project.path) stack.env.PATH = `${project.path}:${stack.env.PATH}`;
                stack.init(
                    {
                        host: "127.0.0.1",
                        port: String(consumer.port),
                        hostKey: node.connection.hostKey!,
                        toolkitVersion: "1.20.0-1",
                        repoUrl: `http://127.0.0.1:${REPO_PORT}`,
                        keyFingerprint: fingerprint(),
                    },
                    { privateKey: sshKey().privateKey },
                );
            });

            it("previews the node's steps and the exact daemon.json diff, changing nothing", () => {
                const preview = stack.preview();
                assert.ok(names(preview.steps, "create").includes("gpu-docker-daemon-json"), JSON.stringify(names(preview.steps, "create")));
                diffs.set(consumer.language, daemonJsonDiff(preview));
                assert.match(diffs.get(consumer.language)!, /\+\s+"runtimes": \{/);
                assert.doesNotMatch(nodeExec(nodeName, "cat /etc/docker/daemon.json 2>/dev/null || true"), /nvidia/, "the preview wrote nothing");
            });

            it("converges with `pulumi up`: the nvidia runtime in Docker, outputs readable, no credential in state", () => {
                stack.up();
                assert.match(nodeExec(nodeName, "docker info --format '{{json .Runtimes}}'"), /"nvidia"/);
                const outputs = stack.outputs();
                assert.equal(outputs.toolkitVersion, "1.20.0-1");
                assert.ok((outputs.steps as string[]).includes("docker-daemon-json"), JSON.stringify(outputs.steps));
                assert.equal(outputs.dockerHost, `ssh://root@127.0.0.1:${consumer.port}`);
                assert.ok(!stack.exportState().includes(sshKey().privateKey.split("\n")[1]), "the private key is in the state in clear text");
            });

            it("then previews no changes", () => {
                const r = stack.expectNoChanges();
                assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
            });
        });
    }

    // After the languages' own suites: mocha runs a describe's tests before its nested describes.
    describe("all languages", () => {
        it("saw the same daemon.json diff", () => {
            assert.deepEqual([...diffs.keys()].sort(), CONSUMERS.map((c) => c.language).sort());
            const [first, ...rest] = [...diffs.values()];
            for (const diff of rest) assert.equal(diff, first);
        });

        it("used the packed package, version " + packageVersion(), () => {
            assert.match(path.basename(tarball), new RegExp(`pulumi-nvidia-gpu-${packageVersion().replace(/\./g, "\\.")}\\.tgz$`));
        });
    });
});
