/**
 * The real-GPU suite's local half (issue 16). The GPU machine is reached only through the workplace's device tool,
 * never from a script, and has no Node.js: so the plan is built here, from a snapshot read there, by the same sdk
 * functions the components use, and the device half (test/gpu/device/run.sh) runs its steps there exactly as the
 * components send them (the same invocation, the script on stdin). test/gpu/README.md gives the whole sequence.
 *
 * test/gpu/cli.ts runs these; test/gpu/gpuReport.ts checks what comes back.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { watchedFiles } from "../../components/gpuNode";
import { parseSnapshot, snapshotScript } from "../../sdk/host/snapshot";
import { invocationFor } from "../../sdk/steps/invocation";
import { NodeSpec, nodePlan } from "../../sdk/node/nodePlan";
import { PlanStep } from "../../sdk/steps/planStep";
import { REPO_ROOT } from "../helpers/paths";

/** What travels to the GPU machine (ignored by git; `carry: [".gpu"]`). */
export const CARRY_DIR = path.join(REPO_ROOT, ".gpu");
/** The loopback port the carried NVIDIA-like repository is served on there. */
export const REPO_PORT = 18200;

/**
 * The node the suite sets up: NVIDIA's real 1.20.0 packages, Docker with the nvidia runtime and CDI, and the driver pinned
 * to the one loaded there (issue 23): that driver, under /usr/local/nvidia, is owned by no package, so the pin installs
 * nothing and the driver steps only keep unattended upgrades off and verify the real module against the real library.
 */
export function gpuSpec(keyFingerprint: string, driver: NodeSpec["driver"]): NodeSpec {
    return {
        runtime: "docker",
        enableCdi: true,
        // The machine is a VM guest: the hypervisor host keeps persistence and the fabric; it has no nvidia-persistenced.
        persistenced: false,
        toolkit: { version: "1.20.0-1", repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint },
        driver,
    };
}

/** How the suite pins the driver: `version` (the main plan) or `branch` (.gpu/plan-branch, its driver steps only). */
export type PinKind = "version" | "branch";

/** The loaded driver of a snapshot read on the GPU machine. */
export function loadedDriverOf(snapshotText: string): string {
    const loaded = parseSnapshot(snapshotText, "gpu-device").facts.driver.loadedVersion;
    if (loaded === undefined) throw new Error("the snapshot shows no loaded NVIDIA driver: is this the GPU machine?");
    return loaded;
}

/** The pin the loaded driver satisfies: its exact version, or its branch. */
export function pinFor(snapshotText: string, kind: PinKind): NonNullable<NodeSpec["driver"]> {
    const loaded = loadedDriverOf(snapshotText);
    return kind === "version" ? { version: loaded } : { branch: loaded.split(".")[0] };
}

/** A pin the loaded driver does not satisfy (a real release of another branch), checked at preview only. */
export function mismatchedPin(snapshotText: string, kind: PinKind): NonNullable<NodeSpec["driver"]> {
    const other = loadedDriverOf(snapshotText).startsWith("570.") ? "580.95.05" : "570.195.03";
    return kind === "version" ? { version: other } : { branch: other.split(".")[0] };
}

function fingerprintOfCarriedRepo(): string {
    return fs.readFileSync(path.join(CARRY_DIR, "repo", "fingerprint"), "utf8").trim();
}

/** The steps of the plan for a snapshot read on the GPU machine, the driver pinned as `driver` says (default: its version). */
export function planFor(
    snapshotText: string,
    driver: NodeSpec["driver"] = pinFor(snapshotText, "version"),
): { steps: PlanStep[]; findings: string[]; files: { path: string; text: string }[] } {
    const planned = nodePlan(parseSnapshot(snapshotText, "gpu-device"), gpuSpec(fingerprintOfCarriedRepo(), driver));
    return {
        steps: planned.plan.steps,
        findings: planned.findings.map((f) => `${f.severity} ${f.id}: ${f.message}`),
        files: planned.files.map((f) => ({ path: f.path, text: f.text })),
    };
}

export function writeReadScript(): void {
    fs.mkdirSync(CARRY_DIR, { recursive: true });
    const file = path.join(CARRY_DIR, "read-host.sh");
    // The driver's pin is known only from the snapshot; the files a plan reads depend only on there being one.
    fs.writeFileSync(file, snapshotScript(watchedFiles(gpuSpec("unused", { branch: "580" }))));
    console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
}

/**
 * Writes .gpu/plan: for step N, `N.sh` (its script, sent on stdin), `N.cmd` (the command line a component sends for
 * it as root) and `N.undo.cmd` (its delete command; undo scripts travel in argv, as in the components), `steps.txt`
 * (N and name, in order), `findings.txt`, `snapshot.txt` (what it was built from), and `files/<path>` with the bytes the preview shows for each file.
 */
export function writePlan(snapshotFile: string): void {
    const snapshotText = fs.readFileSync(snapshotFile, "utf8");
    writePlanDir(snapshotFile, "plan", planFor(snapshotText, pinFor(snapshotText, "version")));
    // The branch pin's plan: the device runs its driver steps (and their undo) after the main plan's destroy.
    writePlanDir(snapshotFile, "plan-branch", planFor(snapshotText, pinFor(snapshotText, "branch")));
}

function writePlanDir(snapshotFile: string, name: string, { steps, findings, files }: ReturnType<typeof planFor>): void {
    const dir = path.join(CARRY_DIR, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    steps.forEach((step, i) => {
        const n = String(i + 1).padStart(2, "0");
        const apply = invocationFor(step, "root", "root");
        fs.writeFileSync(path.join(dir, `${n}.sh`), apply.stdin ?? "");
        fs.writeFileSync(path.join(dir, `${n}.cmd`), apply.command);
        if (step.undoScript !== undefined)
            fs.writeFileSync(path.join(dir, `${n}.undo.cmd`), invocationFor({ ...step, script: step.undoScript }, "root", "root", "argv").command);
    });
    fs.copyFileSync(snapshotFile, path.join(dir, "snapshot.txt"));
    fs.writeFileSync(path.join(dir, "steps.txt"), steps.map((s, i) => `${String(i + 1).padStart(2, "0")} ${s.name}\n`).join(""));
    fs.writeFileSync(path.join(dir, "findings.txt"), findings.map((f) => `${f}\n`).join(""));
    for (const f of files) {
        const target = path.join(dir, "files", f.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, f.text);
    }
    console.log(`wrote ${steps.length} steps to ${path.relative(REPO_ROOT, dir)}: ${steps.map((s) => s.name).join(", ")}`);
    for (const f of findings) console.log(`  ${f}`);
}
