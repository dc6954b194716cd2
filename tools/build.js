#!/usr/bin/env node
/*
 * `npm run build`: dist/ from the sources tsconfig.build.json includes, plus the probe script.
 *
 * Two things make it safe for suites that run side by side (.ci/run's two lanes, and `npm pack`'s prepack inside
 * them): it compiles into a fresh folder and swaps it in with two renames, so no reader ever meets a half-written
 * dist/; and it skips the compile when dist/ was built from the same bytes (a stamp of every input's SHA-256), so
 * the dozen builds of a CI run cost one.
 */
const { execFileSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const dist = path.join(root, "dist");
const stampFile = path.join(dist, ".build-stamp");
const SOURCE_DIRS = ["components", "sdk", "program", "cli"];
const SOURCE_FILES = ["index.ts", "provider.ts", "tsconfig.json", "tsconfig.build.json", "package-lock.json"];

/** Every file the build reads, relative to the root, sorted. */
function inputs() {
    const walk = (dir) =>
        fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
            const rel = path.posix.join(dir, e.name);
            return e.isDirectory() ? walk(rel) : [rel];
        });
    return [...SOURCE_FILES, ...SOURCE_DIRS.flatMap(walk)].sort();
}

function stamp() {
    const hash = crypto.createHash("sha256");
    for (const file of inputs()) hash.update(`${file}\0`).update(fs.readFileSync(path.join(root, file))).update("\0");
    return hash.digest("hex");
}

const want = stamp();
if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === want) {
    console.error("dist/ is up to date"); // stderr: `npm pack --json` runs this as prepack, and its stdout must stay JSON
    process.exit(0);
}
const fresh = `${dist}.new-${process.pid}`;
const old = `${dist}.old-${process.pid}`;
fs.rmSync(fresh, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", fresh], { cwd: root, stdio: "inherit" });
fs.copyFileSync(path.join(root, "sdk/host/probe.sh"), path.join(fresh, "sdk/host/probe.sh"));
fs.writeFileSync(path.join(fresh, ".build-stamp"), want);
if (fs.existsSync(dist)) fs.renameSync(dist, old);
fs.renameSync(fresh, dist);
fs.rmSync(old, { recursive: true, force: true });
console.error("dist/ built");
