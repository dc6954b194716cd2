import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { PULUMI_TEMPLATE_TSCONFIG } from "./pulumiTemplate";

export { PULUMI_TEMPLATE_TSCONFIG };

/**
 * The package as a new user meets it: the tarball of `npm pack` installed by npm into a fresh folder outside the
 * repository, type-checked with Pulumi's own TypeScript template tsconfig, so what breaks for them breaks here.
 */
export const WORK = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-nvidia-gpu-package-"));
process.on("exit", () => fs.rmSync(WORK, { recursive: true, force: true }));

const devVersion = (name: string): string =>
    (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies[name];

let installed: { tarball: string } | undefined;

/**
 * Packs the repository (`npm pack`: its prepack builds dist/) and installs the tarball with npm into WORK, as
 * `npm install pulumi-nvidia-gpu @pulumi/pulumi` would, with the versions this repository pins; once per run.
 * Projects in folders under WORK resolve the package from WORK/node_modules, as if copied beside it.
 */
export function installPackage(): { tarball: string } {
    if (installed) return installed;
    const packed = JSON.parse(
        execFileSync("npm", ["pack", "--json", "--pack-destination", WORK], { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
    ) as Array<{ filename: string }>;
    const tarball = path.join(WORK, packed[0].filename);
    fs.writeFileSync(
        path.join(WORK, "package.json"),
        JSON.stringify(
            {
                name: "new-user",
                private: true,
                dependencies: { "pulumi-nvidia-gpu": `file:${tarball}`, "@pulumi/pulumi": devVersion("@pulumi/pulumi") },
                devDependencies: { "@types/node": devVersion("@types/node"), typescript: devVersion("typescript") },
            },
            null,
            2,
        ),
    );
    // --prefer-offline: the npm cache answers what it holds, the registry the rest. --ignore-scripts: @pulumi/command's
    // install script would download its plugin, which a type check does not need.
    execFileSync("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: WORK, stdio: ["ignore", "ignore", "pipe"] });
    installed = { tarball };
    return installed;
}

/** A project folder under WORK: Pulumi's template tsconfig unless the files give their own. */
export function project(name: string, files: Record<string, string>): string {
    const dir = path.join(WORK, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const all = { "tsconfig.json": JSON.stringify(PULUMI_TEMPLATE_TSCONFIG, null, 4), ...files };
    for (const [file, text] of Object.entries(all)) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    }
    return dir;
}

export interface Diagnostic {
    file: string;
    code: string;
    message: string;
}

/** `tsc --noEmit -p DIR` with the installed TypeScript: every diagnostic, its file relative to WORK. */
export function typeCheck(dir: string): { code: number; diagnostics: Diagnostic[]; output: string } {
    const tsc = path.join(WORK, "node_modules/typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "--noEmit", "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const output = `${r.stdout}${r.stderr}`;
    const diagnostics: Diagnostic[] = [];
    for (const line of output.split("\n")) {
        const m = /^(.+?)\(\d+,\d+\): error (TS\d+): (.*)$/.exec(line);
        if (m) diagnostics.push({ file: path.relative(WORK, path.resolve(dir, m[1])), code: m[2], message: m[3] });
    }
    return { code: r.status ?? -1, diagnostics, output };
}
