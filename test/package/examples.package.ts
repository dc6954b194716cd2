import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { PULUMI_TEMPLATE_TSCONFIG, WORK, installPackage, typeCheck } from "./consumerProject";

/**
 * Each TypeScript example is a project of its own that can be copied out of the repository (issue 26): it
 * depends on the package by name, imports it by name, and type-checks, copied beside the installed tarball,
 * with its own tsconfig (Pulumi's template).
 */
const EXAMPLES = path.join(REPO_ROOT, "examples");
const typescriptExamples = fs.readdirSync(EXAMPLES).filter((d) => fs.existsSync(path.join(EXAMPLES, d, "index.ts")));

/** Every module an example's sources name: `import … from "x"` and `require("x")`. */
function specifiers(dir: string): string[] {
    const found: string[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
        const text = fs.readFileSync(path.join(dir, file), "utf8");
        for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*|import\s+)["']([^"']+)["']/g)) found.push(m[1]);
    }
    return found;
}

describe("the examples, as projects that can be copied out (issue 26)", function () {
    this.timeout(900000);

    it("there are TypeScript examples", () => assert.ok(typescriptExamples.length >= 5, typescriptExamples.join(", ")));

    for (const name of typescriptExamples) {
        it(`${name}: depends on pulumi-nvidia-gpu by name (file:../..), imports nothing outside its folder, and has Pulumi's template tsconfig`, () => {
            const dir = path.join(EXAMPLES, name);
            assert.ok(fs.existsSync(path.join(dir, "package.json")), "no package.json");
            const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
            assert.equal(pkg.dependencies?.["pulumi-nvidia-gpu"], "file:../..");
            const outside = specifiers(dir).filter((s) => s.startsWith(".") && path.relative(dir, path.resolve(dir, s)).startsWith(".."));
            assert.deepEqual(outside, [], "relative imports that leave the example's folder");
            assert.ok(specifiers(dir).includes("pulumi-nvidia-gpu"), "imports pulumi-nvidia-gpu by name");
            assert.ok(fs.existsSync(path.join(dir, "tsconfig.json")), "no tsconfig.json");
            assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8")), PULUMI_TEMPLATE_TSCONFIG);
        });
    }

    it("copied out beside the installed tarball, every TypeScript example type-checks", () => {
        installPackage();
        const out = path.join(WORK, "examples");
        fs.rmSync(out, { recursive: true, force: true });
        for (const name of typescriptExamples) {
            fs.cpSync(path.join(EXAMPLES, name), path.join(out, name), { recursive: true, filter: (src) => !src.includes("node_modules") });
        }
        // One compiler run over all of them, with the options every example's own tsconfig holds (asserted above).
        const files = typescriptExamples.map((name) => `${name}/index.ts`);
        fs.writeFileSync(path.join(out, "tsconfig.json"), JSON.stringify({ ...PULUMI_TEMPLATE_TSCONFIG, files }, null, 4));
        const r = typeCheck(out);
        assert.deepEqual(
            r.diagnostics.map((d) => `${d.file}: ${d.code} ${d.message}`),
            [],
        );
        assert.equal(r.code, 0, r.output.slice(0, 4000));
    });
});
