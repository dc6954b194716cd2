import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../helpers/paths";

/** Every .ts file under `dir` (relative to the repository root), recursively. */
function sources(dir: string): string[] {
    const full = path.join(REPO_ROOT, dir);
    return fs.readdirSync(full, { withFileTypes: true }).flatMap((e) => {
        const rel = path.posix.join(dir, e.name);
        return e.isDirectory() ? sources(rel) : e.name.endsWith(".ts") ? [rel] : [];
    });
}

/** The repository files a source imports (`import … from`, `export … from`, `import("…")`, `require("…")`), without extension. */
function importsOf(file: string): string[] {
    const text = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
    const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|^import\s+)["']([^"']+)["']/gm)].map((m) => m[1]);
    return specifiers.filter((s) => s.startsWith(".")).map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
}

/**
 * sdk/'s layers, lowest first: a folder imports from its own folder and from folders of a lower layer. Layer 2 (what
 * reads a host, and the step mechanics) may import across itself; the domains of layer 2 may import a lower domain,
 * listed here by giving it the lower number (runtime needs the toolkit's settings, kubernetes the MIG layout).
 */
const SDK_LAYERS: Record<string, number> = {
    ".": 0, // errors, validate, versions: the vocabulary of every module
    spec: 1, // the choices and defaults
    shell: 1,
    toml: 1,
    json: 1,
    secrets: 1,
    host: 2, // reads a host: facts, the probe, snapshots, preflight's runner
    steps: 2, // step mechanics: plan steps, file steps, guards, invocation
    cuda: 3,
    toolkit: 3,
    driver: 3,
    datacentre: 3,
    workloads: 4, // DockerGpuContainer's step: CUDA image policy, run options
    runtime: 4, // one engine per runtime; reads the toolkit's settings
    kubernetes: 4, // manifests; reads the MIG layout
    node: 5, // composes the domains into one node's plan
    report: 6, // prints a plan
};

const edges = (dirs: string[]) => dirs.flatMap(sources).flatMap((from) => importsOf(from).map((to) => ({ from, to })));

describe("the import graph: no upward import, no part imports its composite", () => {
    it("no component part, the stack program's config or the CLI imports the composite GpuNode (only the package root and the program that creates nodes do)", () => {
        const allowed = ["index.ts", "program/fleet.ts"];
        const bad = edges(["components", "program", "cli", "sdk"]).filter(
            (e) => e.to === "components/gpuNode" && !allowed.includes(e.from) && e.from !== "components/gpuNode.ts",
        );
        assert.deepEqual(bad, []);
    });

    it("sdk/ imports nothing from components/, program/ or cli/ (pure data in, data out)", () => {
        const bad = edges(["sdk"]).filter((e) => /^(components|program|cli)\//.test(e.to));
        assert.deepEqual(bad, []);
    });

    it("sdk/ has exactly the folders of its layers, and each folder imports only from its own layer or the layers below", () => {
        const folders = fs
            .readdirSync(path.join(REPO_ROOT, "sdk"), { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => e.name)
            .sort();
        assert.deepEqual(
            folders,
            Object.keys(SDK_LAYERS)
                .filter((f) => f !== ".")
                .sort(),
            "a new sdk folder needs its line in SDK_LAYERS",
        );
        const folderOf = (file: string) => (path.posix.dirname(file) === "sdk" ? "." : file.split("/")[1]);
        const bad = edges(["sdk"])
            .filter((e) => e.to.startsWith("sdk/"))
            .filter((e) => {
                const from = folderOf(e.from);
                const to = folderOf(e.to);
                return from !== to && SDK_LAYERS[to] >= SDK_LAYERS[from] && !(SDK_LAYERS[to] === 2 && SDK_LAYERS[from] === 2);
            })
            .map((e) => `${e.from} -> ${e.to}`);
        assert.deepEqual(bad, []);
    });

    it("no domain imports the node that composes it (sdk/node), and only the report and the node read across into a domain's plan", () => {
        const bad = edges(["sdk"]).filter((e) => e.to.startsWith("sdk/node/") && !e.from.startsWith("sdk/node/"));
        assert.deepEqual(bad, []);
    });
});
