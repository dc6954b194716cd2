import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A command line as the SSH server receives it, and what is written to its stdin. */
export interface SandboxCommand {
    command: string;
    stdin?: string;
}

/** One case: its commands run in order, from a pristine host state. */
export interface SandboxCase {
    id: string;
    commands: SandboxCommand[];
}

/** One call of a logging stand-in: its name and argv. */
export interface StubCall {
    name: string;
    argv: string[];
}

export interface CaseResult {
    id: string;
    /** Per command, in order. */
    exitCodes: number[];
    stdout: string[];
    stderr: string[];
    calls: StubCall[];
    /** Every `fuzz-canary-*` file found on the sandbox's root after the case. */
    canaries: string[];
    /** Ids the payload command `fuzzpwn` was run with. */
    pwned: string[];
}

const HERE = path.join(__dirname, "sandbox");

/** Parses /fuzz/argv.log: per call `name\0count\0arg\0…`. */
export function parseArgvLog(log: string): StubCall[] {
    const fields = log.split("\0");
    const calls: StubCall[] = [];
    let i = 0;
    while (i + 1 < fields.length) {
        const name = fields[i];
        const count = Number(fields[i + 1]);
        calls.push({ name, argv: fields.slice(i + 2, i + 2 + count) });
        i += 2 + count;
    }
    return calls;
}

function runShard(cases: SandboxCase[]): Promise<CaseResult[]> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "fuzz-sandbox-"));
    const dirs = cases.map((c, n) => {
        const dir = path.join(work, "cases", String(n).padStart(6, "0"));
        fs.mkdirSync(dir, { recursive: true });
        c.commands.forEach((cmd, k) => {
            const base = path.join(dir, String(k).padStart(3, "0"));
            fs.writeFileSync(`${base}.cmd`, cmd.command);
            if (cmd.stdin !== undefined) fs.writeFileSync(`${base}.stdin`, cmd.stdin);
        });
        return dir;
    });
    return new Promise((resolve, reject) => {
        const child = spawn("unshare", ["--mount", "--pid", "--fork", "--propagation", "private", "sh", path.join(HERE, "enter.sh"), work], {
            stdio: ["ignore", "pipe", "pipe"],
        });
        let errors = "";
        child.stderr.on("data", (d) => (errors += String(d)));
        child.stdout.on("data", () => undefined);
        child.on("error", reject);
        child.on("close", (code) => {
            try {
                if (code !== 0) throw new Error(`the fuzz sandbox exited ${code}: ${errors}`);
                const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
                const results = cases.map((c, n) => {
                    const dir = dirs[n];
                    const per = (ext: string) => c.commands.map((_, k) => read(path.join(dir, `${String(k).padStart(3, "0")}.${ext}`)));
                    return {
                        id: c.id,
                        exitCodes: per("rc").map((rc) => (rc.trim() === "" ? -1 : Number(rc.trim()))),
                        stdout: per("out"),
                        stderr: per("err"),
                        calls: parseArgvLog(read(path.join(dir, "argv.log"))),
                        canaries: read(path.join(dir, "canaries")).split("\n").filter(Boolean),
                        pwned: read(path.join(dir, "pwned")).split("\n").filter(Boolean),
                    };
                });
                resolve(results);
            } catch (e) {
                reject(e);
            } finally {
                fs.rmSync(work, { recursive: true, force: true });
            }
        });
    });
}

/** Runs the cases in `shards` sandboxes at once (one per core), each case from the pristine state. */
export async function runInSandbox(cases: SandboxCase[], shards = Math.max(1, Math.min(os.cpus().length, 4))): Promise<CaseResult[]> {
    const parts: SandboxCase[][] = Array.from({ length: shards }, () => []);
    cases.forEach((c, i) => parts[i % shards].push(c));
    const done = await Promise.all(parts.filter((p) => p.length > 0).map(runShard));
    const byId = new Map(done.flat().map((r) => [r.id, r]));
    return cases.map((c) => byId.get(c.id)!);
}

/** Where an injected command ran or a hostile value was split into separate words. */
export function escapesIn(result: CaseResult): string[] {
    const found: string[] = [];
    for (const c of result.canaries) found.push(`canary file ${c}`);
    for (const p of result.pwned) found.push(`payload command ran (fuzzpwn ${p})`);
    for (const call of result.calls) {
        if (call.name === "fuzzpwn") continue;
        for (const a of call.argv) {
            if (/^(?:fuzzpwn|touch|\/tmp\/fuzz-canary-\S*|fuzz-canary-\S*)$/.test(a))
                found.push(`${call.name} got the injected word ${JSON.stringify(a)} as one argument: ${JSON.stringify(call.argv)}`);
        }
    }
    result.stderr.forEach((err) => {
        const m = /fuzzpwn[^\n]*(?:not found|No such file)/.exec(err);
        if (m) found.push(`the shell tried to run the payload: ${m[0]}`);
    });
    return found;
}
