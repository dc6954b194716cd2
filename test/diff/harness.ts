import { strict as assert } from "node:assert";
import { isDeepStrictEqual } from "node:util";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as TOML from "@iarna/toml";
import { parseRenderFlags, renderFromFlags } from "../../cli/renderCommand";
import { emitGoToml } from "../../sdk/toml/goTomlEmitter";
import { plain } from "../../sdk/toml/parseToml";
import { CONTAINERDS, containerdDump, criRuntimeOfDump, nvidiaCtk } from "./binaries";
import { DiffCase, KNOWN_BUGS, KnownBug, Outcome, criOf, flagValue, hasFlag } from "./knownBugs";
import { ledger } from "./ledger";

/** The file nvidia-ctk reads per target, in the case's folder. */
const INPUT_FILE: Record<DiffCase["target"], string> = {
    docker: "daemon.json",
    containerd: "config.toml",
    crio: "crio.conf",
    "toolkit-config": "config.toml",
};

/** Runs the real nvidia-ctk v1.20.0 in write mode on files in `dir`; never on /etc. */
export function runTheirs(c: DiffCase, dir: string): Outcome {
    const input = path.join(dir, INPUT_FILE[c.target]);
    if (c.input !== undefined) fs.writeFileSync(input, c.input);
    // Inputs may import one more file, by a path relative to config.toml (containerd resolves it so).
    if (c.target === "containerd") fs.writeFileSync(path.join(dir, "extra.toml"), "version = 2\noom_score = -500\n");
    let args: string[];
    switch (c.target) {
        case "docker":
            args = ["runtime", "configure", "--runtime=docker", `--config=${input}`, ...c.flags];
            break;
        case "containerd":
            args = [
                "runtime",
                "configure",
                "--runtime=containerd",
                `--config=${input}`,
                `--drop-in-config=${path.join(dir, "conf.d", "99-nvidia.toml")}`,
                ...c.flags,
            ];
            break;
        case "crio":
            args = [
                "runtime",
                "configure",
                "--runtime=crio",
                `--config=${input}`,
                `--drop-in-config=${path.join(dir, "crio.conf.d", "99-nvidia.toml")}`,
                ...c.flags,
            ];
            break;
        case "toolkit-config":
            args = ["config", `--config-file=${input}`, "--in-place", ...c.flags];
            break;
    }
    const run = nvidiaCtk(args, dir);
    if (run.status !== 0) return { ok: false, error: `exit ${run.status}: ${run.stderr.trim()}` };
    const read = (p: string) => fs.readFileSync(path.join(dir, p), "utf8");
    switch (c.target) {
        case "docker":
            return { ok: true, files: { "daemon.json": read("daemon.json") } };
        case "containerd":
            return { ok: true, files: { "config.toml": read("config.toml"), "99-nvidia.toml": read("conf.d/99-nvidia.toml") } };
        case "crio":
            return { ok: true, files: { "99-nvidia.toml": read("crio.conf.d/99-nvidia.toml") } };
        case "toolkit-config":
            return { ok: true, files: { "config.toml": read("config.toml") } };
    }
}

/** Our renderers through the CLI's flag layer (`gpu-node render`), with the same flags nvidia-ctk got. */
export function runOurs(c: DiffCase, dir: string): Outcome {
    const extra = c.target === "containerd" ? [`--drop-in-dir=${path.join(dir, "conf.d")}`] : [];
    try {
        const results = renderFromFlags(c.target, c.input, parseRenderFlags([...c.flags, ...extra]));
        return { ok: true, files: Object.fromEntries(results.map((r) => [path.basename(r.path), r.text])) };
    } catch (error) {
        return { ok: false, error: (error as Error).message };
    }
}

export function parseFiles(files: Record<string, string>): Record<string, any> {
    return Object.fromEntries(Object.entries(files).map(([name, text]) => [name, name.endsWith(".json") ? JSON.parse(text) : plain(TOML.parse(text))]));
}

const describeCase = (c: DiffCase) => `${c.target} ${c.flags.join(" ")}\n--- input ---\n${c.input ?? "(missing)"}\n---`;

/** Applies every known bug's correction to nvidia-ctk's parsed files; returns the bugs that changed something. */
export function correctTheirs(c: DiffCase, theirs: Record<string, any>): { corrected: Record<string, any>; applied: KnownBug[] } {
    const corrected = structuredClone(theirs);
    const applied: KnownBug[] = [];
    for (const bug of KNOWN_BUGS) {
        if (bug.target !== c.target || !bug.correct) continue;
        const before = JSON.stringify(corrected);
        bug.correct(corrected, c);
        if (JSON.stringify(corrected) !== before) applied.push(bug);
    }
    return { corrected, applied };
}

/**
 * One differential case: nvidia-ctk and our renderer on the same input and flags. Passes only when
 * every difference is explained by a row of KNOWN_BUGS; containerd cases are also loaded in every
 * containerd that reads their config version, and the merged configs must match.
 */
export async function checkCase(c: DiffCase): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `diff-${c.target}-`));
    try {
        const theirs = runTheirs(c, dir);
        const ours = runOurs(c, dir);
        if (!theirs.ok || !ours.ok) {
            if (!theirs.ok && !ours.ok && !KNOWN_BUGS.some((b) => b.target === c.target && b.explainsRefusal?.(c, theirs, ours))) {
                ledger.record(c, ["both refuse"]);
                return;
            }
            const bug = KNOWN_BUGS.find((b) => b.target === c.target && b.explainsRefusal?.(c, theirs, ours));
            assert.ok(
                bug,
                `unexplained: ${theirs.ok ? "only we refuse" : "only nvidia-ctk refuses"}\nnvidia-ctk: ${theirs.ok ? "ok" : theirs.error}\nours: ${ours.ok ? "ok" : ours.error}\n${describeCase(c)}`,
            );
            ledger.record(c, [bug.ref]);
            return;
        }
        const theirsData = parseFiles(theirs.files);
        const oursData = parseFiles(ours.files);
        const { corrected, applied } = correctTheirs(c, theirsData);
        if (applied.length > 0) {
            assert.ok(!isDeepStrictEqual(oursData, theirsData), `nvidia-ctk shows ${applied.map((b) => b.ref).join(", ")} but ours equals it`);
        }
        assert.deepStrictEqual(
            oursData,
            corrected,
            `differences not explained by ${applied.map((b) => b.ref).join(", ") || "any known bug"}\n${describeCase(c)}`,
        );
        const textBugs = KNOWN_BUGS.filter((b) => b.target === c.target && b.checkText?.(c, theirs.files, ours.files));
        if (c.target === "containerd") {
            assertRuntimeEntry(c, oursData["99-nvidia.toml"]);
            await compareInContainerd(c, dir, theirs.files, applied.length > 0 ? corrected : undefined, ours.files);
        }
        ledger.record(
            c,
            [...applied, ...textBugs].map((b) => b.ref),
        );
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** #1956: the nvidia runtime always has runtime_type and the runtime path. */
function assertRuntimeEntry(c: DiffCase, dropIn: any): void {
    const name = flagValue(c, "--nvidia-runtime-name") ?? "nvidia";
    const entry = criOf(dropIn)?.containerd?.runtimes?.[name];
    assert.ok(entry, `our drop-in has the ${name} runtime`);
    assert.equal(entry.runtime_type, "io.containerd.runc.v2", "runtime_type set (NVIDIA/nvidia-container-toolkit#1956)");
    assert.equal(entry.options.BinaryName, flagValue(c, "--nvidia-runtime-path") ?? "/usr/bin/nvidia-container-runtime");
}

function writeContainerdFiles(dir: string, files: Record<string, string>): string {
    fs.mkdirSync(path.join(dir, "conf.d"), { recursive: true });
    fs.writeFileSync(path.join(dir, "config.toml"), files["config.toml"]);
    fs.writeFileSync(path.join(dir, "conf.d", "99-nvidia.toml"), files["99-nvidia.toml"]);
    return path.join(dir, "config.toml");
}

/**
 * Loads nvidia-ctk's files, their corrected form (when a known bug changed them) and ours into every
 * containerd that reads the drop-in's config version, in the same folder so paths agree, and compares
 * containerd's own merged view (`config dump`).
 */
async function compareInContainerd(
    c: DiffCase,
    dir: string,
    theirs: Record<string, string>,
    corrected: Record<string, any> | undefined,
    ours: Record<string, string>,
): Promise<void> {
    const version = (TOML.parse(ours["99-nvidia.toml"]) as any).version as number;
    const binaries = CONTAINERDS.filter((b) => b.configVersions.includes(version));
    assert.ok(binaries.length >= 2, `config version ${version} is loaded by at least two containerd versions`);
    const variants: Array<[string, Record<string, string>]> = [
        ["theirs", theirs],
        ["ours", ours],
    ];
    if (corrected) variants.push(["corrected", { "config.toml": theirs["config.toml"], "99-nvidia.toml": emitGoToml(corrected["99-nvidia.toml"]) }]);
    const dumps: Record<string, Record<string, any>> = {};
    for (const [label, files] of variants) {
        const root = writeContainerdFiles(dir, files);
        const results = await Promise.all(binaries.map((b) => containerdDump(b.bin, root)));
        dumps[label] = Object.fromEntries(binaries.map((b, i) => [b.label, results[i]]));
    }
    const name = flagValue(c, "--nvidia-runtime-name") ?? "nvidia";
    for (const b of binaries) {
        const mine = dumps.ours[b.label];
        assert.ok(mine.ok, `containerd ${b.label} loads our files: ${mine.ok ? "" : mine.error}\n${describeCase(c)}`);
        const cri = criRuntimeOfDump(mine.data);
        assert.equal(cri?.containerd?.runtimes?.[name]?.runtime_type, "io.containerd.runc.v2", `containerd ${b.label}: ${name} runtime with runtime_type`);
        if (hasFlag(c, "--set-as-default")) assert.equal(cri.containerd.default_runtime_name, name, `containerd ${b.label}: default runtime`);
        const expected = dumps[corrected ? "corrected" : "theirs"][b.label];
        assert.ok(expected.ok, `containerd ${b.label} loads nvidia-ctk's ${corrected ? "corrected " : ""}files: ${expected.ok ? "" : expected.error}`);
        assert.deepStrictEqual(
            mine.data,
            expected.data,
            `containerd ${b.label}: merged config differs from nvidia-ctk's${corrected ? " (corrected)" : ""}\n${describeCase(c)}`,
        );
        if (corrected) {
            const raw = dumps.theirs[b.label];
            if (!raw.ok || !isDeepStrictEqual(raw.data, mine.data)) ledger.visibleIn(c, b.label);
        }
    }
}
