import { HostSnapshot, WatchedFile, parseSnapshot, snapshotScript } from "../sdk/host/snapshot";
import { GpuConfigError } from "../sdk/errors";
import { quote } from "../sdk/shell/shellScript";
import { ResolvedConnection } from "./connection";
import { sshExec } from "./sshExec";
import pLimit = require("p-limit");

/** Reads a host without changing it. Components take it as an option, so tests inject a fake. */
export interface HostReader {
    snapshot(connection: ResolvedConnection, files: WatchedFile[]): Promise<HostSnapshot>;
}

/**
 * How many hosts are read at once, at most: a preview of a fleet starts every GpuNode's read together, and 50 SSH
 * handshakes and probes at once on a small machine ran past the read's time-out (bench:scale, issue 24). A read waits
 * for its turn before its time-out starts. `PULUMI_NVIDIA_GPU_CONCURRENT_READS` sets it (default 16).
 */
export function concurrentReads(env: NodeJS.ProcessEnv = process.env): number {
    const value = env.PULUMI_NVIDIA_GPU_CONCURRENT_READS;
    if (value === undefined || value === "") return 16;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
        throw new GpuConfigError(
            "PULUMI_NVIDIA_GPU_CONCURRENT_READS",
            `is ${JSON.stringify(value)}, not a whole number of 1 or more`,
            "set it to the number of hosts to read at once (e.g. 16), or unset it",
        );
    }
    return n;
}

/** The real reader: one `ssh2` session per host that runs the read-only snapshot script (pinned host key verified). */
export class SshHostReader implements HostReader {
    // p-limit: a small, well-kept queue (sindresorhus; CommonJS in 3.x), instead of a hand-written semaphore.
    private turn: pLimit.Limit | undefined;

    constructor(
        private readonly timeoutMs = 30000,
        private readonly concurrency?: number,
    ) {}

    async snapshot(connection: ResolvedConnection, files: WatchedFile[]): Promise<HostSnapshot> {
        files.forEach(checkWatchedPath);
        this.turn ??= pLimit(this.concurrency ?? concurrentReads());
        const output = await this.turn(() => runReadOnly(connection, snapshotScript(files), this.timeoutMs));
        return parseSnapshot(output, connection.host);
    }
}

/** Runs a read-only script over SSH and returns its stdout; a non-zero exit is an error with its last stderr line. */
export async function runReadOnly(connection: ResolvedConnection, script: string, timeoutMs: number): Promise<string> {
    const r = await sshExec(connection, `sh -c ${quote(script)}`, { readyTimeoutMs: timeoutMs, timeoutMs: timeoutMs * 2 });
    if (r.code !== 0) throw new Error(`reading ${connection.host} failed (exit ${r.code}): ${r.stderr.trim().split("\n").pop() ?? ""}`);
    return r.stdout;
}

/**
 * The last guard before a path goes into the read-only script: absolute, plain segments, no control
 * characters. Components check each field by name first (sdk/validate.ts); this names the path.
 */
export function checkWatchedPath(file: WatchedFile): void {
    const p = file.path;
    const problem =
        typeof p !== "string"
            ? "is not a string"
            : /[\u0000-\u001f\u007f]/.test(p)
              ? "holds a control character"
              : !p.startsWith("/")
                ? "is not absolute"
                : p
                        .split("/")
                        .slice(1)
                        .some((s) => s === "" || s === "." || s === "..")
                  ? "has an empty, '.' or '..' segment"
                  : undefined;
    if (problem !== undefined) {
        throw new GpuConfigError(
            `host file ${JSON.stringify(p)}`,
            `${problem}, so the host was not read`,
            "check the path arguments (rootlessHome, output) given to the component",
        );
    }
}
