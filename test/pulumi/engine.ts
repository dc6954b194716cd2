import { SpawnSyncReturns, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { PULUMI_TEMPLATE_TSCONFIG } from "../package/pulumiTemplate";

/**
 * The real Pulumi engine, as a user runs it: the CLI, the Node.js language host and the command provider
 * that tools/setup-engine.sh built from the Go module proxy, a local file backend, passphrase secrets, and
 * nothing that downloads. No mocks: what these tests see is what `pulumi preview/up/destroy` do.
 */
export const ENGINE_BIN = path.join(REPO_ROOT, ".tmp/bin");
const WORK = path.join(REPO_ROOT, ".tmp/pulumi-e2e");

export function engineEnv(stateDir: string): NodeJS.ProcessEnv {
    return {
        ...process.env,
        PATH: `${ENGINE_BIN}:${process.env.PATH}`,
        PULUMI_HOME: path.join(REPO_ROOT, ".tmp/pulumi-home"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_BACKEND_URL: `file://${stateDir}`,
        PULUMI_CONFIG_PASSPHRASE: "lifecycle-test-passphrase",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        NO_COLOR: "1",
    };
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** One engine operation in the preview's JSON: which resource, and what the engine will do to it. */
export interface PreviewStep {
    op: string;
    urn: string;
    diffReasons?: string[];
}

export interface Preview {
    steps: PreviewStep[];
    diagnostics: Array<{ message: string; severity: string; urn?: string }>;
    changeSummary: Record<string, number>;
}

/** A stack of a project directory: `pulumi` run there with this stack selected. */
export class Stack {
    readonly env: NodeJS.ProcessEnv;
    /** How long one pulumi command may run (a DKMS build of NVIDIA's module takes longer than the default). */
    timeoutMs = 900000;

    constructor(
        readonly dir: string,
        readonly name: string,
        stateDir: string,
        readonly configFile?: string,
    ) {
        fs.mkdirSync(stateDir, { recursive: true });
        this.env = engineEnv(stateDir);
    }

    /** Runs `pulumi ARGS --stack NAME` in the project dir, without a terminal. */
    run(args: string[], allowFailure = false): RunResult {
        const extra = this.configFile && ["preview", "up", "destroy", "config", "refresh"].includes(args[0]) ? ["--config-file", this.configFile] : [];
        const flags = ["--stack", this.name, "--non-interactive", ...extra];
        const dashes = args.indexOf("--");
        const argv = dashes === -1 ? [...args, ...flags] : [...args.slice(0, dashes), ...flags, ...args.slice(dashes)];
        const r: SpawnSyncReturns<string> = spawnSync("pulumi", argv, {
            cwd: this.dir,
            env: this.env,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
            timeout: this.timeoutMs,
        });
        const result = { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
        if (!allowFailure && result.code !== 0) {
            throw new Error(`pulumi ${args.join(" ")} exited ${result.code}${killed(r, this.timeoutMs)}:\n${failure(result)}`);
        }
        return result;
    }

    init(config: Record<string, string>, secrets: Record<string, string> = {}): void {
        spawnSync("pulumi", ["stack", "init", this.name, "--non-interactive"], { cwd: this.dir, env: this.env, encoding: "utf8" });
        for (const [key, value] of Object.entries(config)) this.run(["config", "set", key, "--", value]);
        for (const [key, value] of Object.entries(secrets)) this.run(["config", "set", "--secret", key, "--", value]);
    }

    setConfig(key: string, value: string): void {
        this.run(["config", "set", key, "--", value]);
    }

    /** `pulumi preview --json --diff`: the engine's own account of what `up` would do. */
    preview(): Preview {
        const r = this.run(["preview", "--json", "--diff"]);
        const parsed = JSON.parse(r.stdout) as Partial<Preview>;
        return { steps: parsed.steps ?? [], diagnostics: parsed.diagnostics ?? [], changeSummary: parsed.changeSummary ?? {} };
    }

    /** A failing preview's output. */
    previewFailure(): RunResult {
        const r = this.run(["preview", "--diff"], true);
        if (r.code === 0) throw new Error(`the preview passed, but should have failed:\n${tail(r.stdout)}`);
        return r;
    }

    /** `pulumi preview --expect-no-changes`: exit 0 only when the engine would run nothing. */
    expectNoChanges(): RunResult {
        return this.run(["preview", "--expect-no-changes", "--diff"], true);
    }

    up(): RunResult {
        return this.run(["up", "--yes", "--skip-preview", "--diff"]);
    }

    destroy(): RunResult {
        return this.run(["destroy", "--yes", "--skip-preview"]);
    }

    /** `pulumi stack export`: the state as the engine keeps it. */
    exportState(): string {
        return this.run(["stack", "export", "--show-secrets=false"]).stdout;
    }

    outputs(): Record<string, unknown> {
        return JSON.parse(this.run(["stack", "output", "--json"]).stdout) as Record<string, unknown>;
    }

    /** Removes the stack from the backend (its resources must be destroyed first). */
    remove(): void {
        this.run(["stack", "rm", "--yes", "--force"], true);
    }
}

/**
 * A user's TypeScript program in its own folder outside the library, importing it by package name: the
 * folder's node_modules holds this repository as `pulumi-nvidia-gpu` beside the repository's own packages.
 */
export function userProject(name: string, program: string): string {
    const dir = path.join(WORK, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, "node_modules"), { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n`);
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, main: "index.ts", private: true }, null, 2));
    // Pulumi's template tsconfig, as a user's project has (issue 26: esModuleInterop here hid a consumer's TS1259).
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(PULUMI_TEMPLATE_TSCONFIG, null, 2));
    fs.writeFileSync(path.join(dir, "index.ts"), program);
    for (const entry of fs.readdirSync(path.join(REPO_ROOT, "node_modules"))) {
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules", entry), path.join(dir, "node_modules", entry));
    }
    fs.symlinkSync(REPO_ROOT, path.join(dir, "node_modules", "pulumi-nvidia-gpu"));
    return dir;
}

export function stateDir(name: string): string {
    const dir = path.join(WORK, `${name}-state`);
    fs.rmSync(dir, { recursive: true, force: true });
    return dir;
}

/** Resource names (the last part of the URN) of the steps whose op is one of `ops`. */
export function names(steps: PreviewStep[], ...ops: string[]): string[] {
    return steps
        .filter((s) => ops.includes(s.op))
        .map((s) => s.urn.replace(/^.*::/, ""))
        .sort();
}

function tail(text: string, lines = 40): string {
    return text.split("\n").slice(-lines).join("\n");
}

/** Why spawnSync ended a run it did not see exit: the timeout (the provider then reports "exited prematurely"). */
function killed(r: SpawnSyncReturns<string>, timeoutMs: number): string {
    if (r.signal === null && r.error === undefined) return "";
    return ` (${r.error?.message ?? "killed"}${r.signal ? ` by ${r.signal}` : ""}; Stack.timeoutMs is ${timeoutMs / 60000} min)`;
}

/**
 * A failed run, readable: the steps' own `error:` lines (a DKMS build prints thousands of lines, and the cause scrolled
 * out of a 40-line tail), then the last 150 lines of stdout and of stderr.
 */
export function failure(result: RunResult): string {
    const errors = `${result.stdout}\n${result.stderr}`.split("\n").filter((l) => /^\s*(error|fatal|panic):/i.test(l));
    const head = errors.length > 0 ? `the error lines:\n${[...new Set(errors)].slice(0, 30).join("\n")}\n--- stdout (last 150 lines) ---\n` : "";
    return `${head}${tail(result.stdout, 150)}\n--- stderr (last 150 lines) ---\n${tail(result.stderr, 150)}`;
}
