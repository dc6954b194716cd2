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

    it("what reads a host (sdk/host) and the step mechanics (sdk/steps) import no planner (sdk/plan) or runtime engine (sdk/runtime)", () => {
        const bad = edges(["sdk/host", "sdk/steps"]).filter((e) => /^sdk\/(plan|runtime)\//.test(e.to));
        assert.deepEqual(bad, []);
    });
});
