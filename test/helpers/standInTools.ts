import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * Runs a script with TEST STAND-INS on PATH: each tool named in `tools` records `name args` and then runs its body,
 * which answers as the real tool does in the case under test. A PID namespace of its own: the script's lock wait must
 * not see other package managers running on this machine. Returns the exit code, stderr and the recorded calls.
 */
export function runWithStandInTools(script: string, tools: Record<string, string>): { code: number; stderr: string; calls: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stand-in-tools-"));
    const log = path.join(dir, "calls");
    for (const [name, body] of Object.entries(tools)) {
        fs.writeFileSync(path.join(dir, name), `#!/bin/sh\necho "${name} $*" >> ${log}\n${body}\n`, { mode: 0o755 });
    }
    const r = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "sh", "-c", script], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
    fs.rmSync(dir, { recursive: true, force: true });
    return { code: r.status ?? -1, stderr: r.stderr, calls };
}
