import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";

/**
 * A copy of the working tree as a fresh clone holds it (tracked and new files, nothing git ignores) in DIR, with
 * the repository's node_modules linked in, as `npm ci` lays them out. With `engine`, the binaries that
 * tools/setup-engine.sh built are linked in file by file, with its stamps: a stand-in for the warm build cache the
 * README's "a second run takes a second" means, so the script's own checks still decide what is rebuilt, and
 * whatever it writes lands in the copy, not in the repository.
 */
export function freshClone(dir: string, engine = false): string {
    fs.rmSync(dir, { recursive: true, force: true });
    const files = execFileSync("git", ["ls-files", "-z", "-co", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" })
        .split("\0")
        .filter((f) => f !== "" && f !== "node_modules" && fs.existsSync(path.join(REPO_ROOT, f)));
    for (const file of files) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
        fs.chmodSync(path.join(dir, file), fs.statSync(path.join(REPO_ROOT, file)).mode);
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
    if (engine) {
        for (const sub of ["bin", "providers"]) {
            const from = path.join(REPO_ROOT, ".tmp", sub);
            if (!fs.existsSync(from)) continue;
            fs.mkdirSync(path.join(dir, ".tmp", sub), { recursive: true });
            for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
                if (entry.isFile()) fs.symlinkSync(path.join(from, entry.name), path.join(dir, ".tmp", sub, entry.name));
            }
        }
        fs.cpSync(path.join(REPO_ROOT, ".tmp/engine-stamps"), path.join(dir, ".tmp/engine-stamps"), { recursive: true });
    }
    return dir;
}

/** The environment of a fresh login: HOME as given, no Pulumi settings, and no engine left on PATH by the caller. */
export function freshEnv(home: string): NodeJS.ProcessEnv {
    const keep = ["USER", "LOGNAME", "LANG", "TERM", "TMPDIR"];
    const env: NodeJS.ProcessEnv = { HOME: home, NO_COLOR: "1" };
    for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key];
    env.PATH = (process.env.PATH ?? "")
        .split(":")
        .filter((p) => !p.includes("/.tmp/bin") && !p.includes("node_modules/.bin"))
        .join(":");
    // Go's caches stay the machine's: they are the "cached" of the README (a new HOME would mean a cold rebuild).
    for (const key of ["GOCACHE", "GOMODCACHE"]) env[key] = execFileSync("go", ["env", key], { encoding: "utf8" }).trim();
    return env;
}
