import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { engineEnv } from "../pulumi/engine";

/**
 * The package as platform teams get it: the tarball of `npm pack`, the provider plugin bundled from it, and
 * consumer projects in a folder outside the repository (nothing there can reach the sources).
 */
export const WORK = path.join(os.tmpdir(), "pulumi-nvidia-gpu-consumers");
export const PLUGIN = "nvidia-gpu";

export function packageVersion(): string {
    return (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = engineEnv(path.join(WORK, "state"))): string {
    return execFileSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
}

/** `npm pack` (its prepack builds dist/): the tarball a registry would serve. */
export function packTarball(): string {
    fs.mkdirSync(WORK, { recursive: true });
    const out = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", WORK], REPO_ROOT, process.env)) as Array<{ filename: string }>;
    return path.join(WORK, out[0].filename);
}

/**
 * The provider plugin: the packed package with its production dependencies (from the npm registry), its
 * `pulumi-resource-nvidia-gpu` executable at the top, installed as resource plugin `nvidia-gpu` VERSION.
 */
export function installPlugin(tarball: string): string {
    const dir = path.join(WORK, "plugin");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    run("tar", ["-xzf", tarball, "-C", dir, "--strip-components=1"], WORK);
    // --ignore-scripts: the package's own prepare needs the compiler, and @pulumi/command's install script would
    // download a plugin; the engine here already has command 1.2.1.
    run("npm", ["install", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock"], dir, process.env);
    // The package ships no PulumiPlugin.yaml, so the CLI installs the bundle as the executable it is, as the README's steps do.
    assert.ok(!fs.existsSync(path.join(dir, "PulumiPlugin.yaml")), "the package ships a PulumiPlugin.yaml");
    const bundle = path.join(WORK, `pulumi-resource-${PLUGIN}-v${packageVersion()}.tar.gz`);
    run("tar", ["-czf", bundle, "-C", dir, "."], WORK);
    const env = engineEnv(path.join(WORK, "state"));
    const installed = path.join(env.PULUMI_HOME!, "plugins", `resource-${PLUGIN}-v${packageVersion()}`);
    fs.rmSync(installed, { recursive: true, force: true });
    fs.rmSync(`${installed}.lock`, { force: true });
    run("pulumi", ["plugin", "install", "resource", PLUGIN, packageVersion(), "--file", bundle], WORK, env);
    return bundle;
}

/** A fresh project folder outside the repository. */
export function projectDir(name: string, files: Record<string, string>): string {
    const dir = path.join(WORK, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
    return dir;
}

/** `npm install` in a TypeScript consumer: the tarball, and its dependencies from the npm registry. */
export function npmInstall(dir: string): void {
    run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund"], dir, process.env);
}

/** `tsc --noEmit` in a TypeScript consumer, as its CI or IDE runs it: throws with the compiler's output on any error. */
export function typeCheck(dir: string): void {
    run(process.execPath, [path.join(dir, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", dir, "--pretty", "false"], dir, process.env);
}

/** The Python SDK generated from schema.json, in a virtualenv with `pulumi` from PyPI. */
export function pythonEnvironment(dir: string, schema: string, pulumiVersion: string): string {
    const sdk = path.join(WORK, "python-sdk");
    fs.rmSync(sdk, { recursive: true, force: true });
    // `pulumi package gen-sdk --language python` asks the Python language host to generate, and the host built here
    // (v3.68.0) has no GeneratePackage: pulumi-gen-python runs the same generator (pkg/v3 codegen/python).
    run("pulumi-gen-python", [schema, sdk], WORK);
    const venv = path.join(dir, "venv");
    run("python3", ["-m", "venv", venv], dir, process.env);
    run(path.join(venv, "bin/pip"), ["install", "--quiet", `pulumi==${pulumiVersion}`, sdk], dir, process.env);
    return venv;
}

/** Whether a command is on PATH (with the engine's PATH). */
export function has(command: string): boolean {
    try {
        run("sh", ["-c", `command -v ${command}`], WORK);
        return true;
    } catch {
        return false;
    }
}
