/**
 * Checks what the device half of the real-GPU suite brought back and writes test/gpu/results/gpu-<date>.md.
 * Besides the device's own PASS/FAIL lines, it re-plans here, with the components' sdk functions, from the snapshots
 * read there: the plan must be byte-identical on the state it met (so it was built from that machine's state), on
 * the applied state (the engine's invariant: a converged host gives the same step inputs, so `pulumi up` runs
 * nothing), and after destroy (a later `up` does the same as the first).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CARRY_DIR, planFor } from "./gpuSuite";
import { driverChecks } from "./gpuDriverChecks";
import { REPO_ROOT } from "../helpers/paths";

/** The device checks a complete run has; a run missing one of them is a failed run, not a partial pass. */
const REQUIRED = [
    "setup",
    "apply",
    "daemon-json-as-previewed",
    "docker-restarted",
    "nvidia-runtime-registered",
    "real-toolkit-binaries",
    "build-image",
    "runtime-nvidia-all",
    "cdi-all",
    "cdi-index-0",
    "cdi-uuid-0",
    "control-no-gpu-under-runc",
    "reapply-ok",
    "reapply-writes-nothing",
    "destroy-restores-daemon-json",
    "destroy-restarted-docker",
    "destroy-removed-runtime",
    "destroy-removed-packages",
    "destroy-restores-every-file",
    "destroy-steps-ok",
    "driver-nothing-installed",
    "driver-verify-ok",
    "driver-apt-block-as-previewed",
    "driver-apt-block-restored",
    "driver-branch-apply",
    "driver-branch-verify-ok",
    "driver-branch-apt-block-as-previewed",
    "driver-branch-apt-block-restored",
    "driver-untouched",
    // DockerGpuContainer's workloads (issue 27, test/gpu/device/workloads.sh).
    "wl-image",
    "wl-serve-port-volume",
    "wl-serve-read-only",
    "wl-ngc-ipc-host",
    "wl-ngc-memlock",
    "wl-ngc-stack",
    "wl-ngc-cuda",
    "wl-shm-8g",
    "wl-caps-all-nvidia-smi",
    "wl-caps-graphics-libs",
    "wl-caps-video-libs",
    "wl-caps-video-nvdec",
    "wl-unchanged-spec-kept",
    "wl-removed",
];

interface Check {
    name: string;
    passed: boolean;
    detail: string;
}

/** `PASS name detail` / `FAIL name detail` lines. */
export function parseResults(text: string): Check[] {
    return text
        .split("\n")
        .filter((l) => /^(PASS|FAIL) /.test(l))
        .map((l) => {
            const [verdict, name, ...rest] = l.split(" ");
            return { name, passed: verdict === "PASS", detail: rest.join(" ").trim() };
        });
}

/** Compares the plan for one snapshot with the applied plan, step by step (script bytes). */
export function samePlan(applied: ReturnType<typeof planFor>, other: ReturnType<typeof planFor>): string | undefined {
    const names = (p: typeof applied) => p.steps.map((s) => s.name).join(",");
    if (names(applied) !== names(other)) return `steps ${names(other)} instead of ${names(applied)}`;
    const differing = applied.steps.filter((s, i) => s.script !== other.steps[i].script || s.undoScript !== other.steps[i].undoScript).map((s) => s.name);
    return differing.length === 0 ? undefined : `inputs differ in ${differing.join(", ")}`;
}

function untar(archive: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-results-"));
    execFileSync("tar", ["-C", dir, "-xzf", archive]);
    return dir;
}

/** The device checks of a driver-only run (`run.sh driver`): both pins' driver steps, their undo, the driver untouched. */
const DRIVER_ONLY_REQUIRED = ["version", "branch"]
    .flatMap((pin) => {
        const tag = pin === "version" ? "driver" : "driver-branch";
        return ["apply", "nothing-installed", "verify-ok", "apt-block-as-previewed", "destroy", "apt-block-restored"].map((c) => `${tag}-${c}`);
    })
    .concat(["driver-untouched"]);

/** Returns true when every check passed; writes the dated results file either way. */
export function writeReport(resultsDir: string): boolean {
    const device = parseResults(fs.readFileSync(path.join(resultsDir, "results.txt"), "utf8"));
    const artifacts = untar(path.join(resultsDir, "artifacts.tar.gz"));
    const read = (name: string) => fs.readFileSync(path.join(artifacts, name), "utf8");
    const readIfThere = (name: string) => (fs.existsSync(path.join(artifacts, name)) ? read(name).trim() : `(no ${name})`);
    const checks: Check[] = [...device];
    // A driver-only run (no `setup`: no Docker) has its own list; the full run's comparisons after apply and destroy do not apply.
    const driverOnly = !device.some((c) => c.name === "setup") && device.some((c) => c.name === "driver-apply");
    for (const name of driverOnly ? DRIVER_ONLY_REQUIRED : REQUIRED)
        if (!device.some((c) => c.name === name)) checks.push({ name, passed: false, detail: "missing from the run" });

    const planned = planFor(fs.readFileSync(path.join(CARRY_DIR, "plan", "snapshot.txt"), "utf8"));
    // The driver read and the pins at preview (issue 23), from the state the apply met.
    checks.push(...driverChecks(read("pre-snapshot.txt")));
    for (const [name, file, what] of [
        ["plan-matches-machine", "pre-snapshot.txt", "re-planned from the state the apply met"],
        ["converged-plan-identical", "post-snapshot.txt", "re-planned from the applied host: the engine would run no step"],
        ["plan-after-destroy-identical", "destroyed-snapshot.txt", "re-planned after destroy: a later up does what the first did"],
    ] as const) {
        if (driverOnly && name !== "plan-matches-machine") continue;
        let problem: string | undefined;
        try {
            problem = samePlan(planned, planFor(read(file)));
        } catch (e) {
            problem = (e as Error).message;
        }
        checks.push({ name, passed: problem === undefined, detail: problem ?? what });
    }

    const failed = checks.filter((c) => !c.passed);
    const date = new Date().toISOString().slice(0, 10);
    const machine = fs.readFileSync(path.join(resultsDir, "machine.txt"), "utf8").trim();
    const out = [
        `# Real-GPU suite, ${date}`,
        "",
        "`npm run test:gpu` (test/gpu/README.md): the project's own plan, built here from a snapshot read on the GPU machine,",
        driverOnly
            ? "run there step by step as the components send it: the driver steps of the version and branch pins, and their undo."
            : "run there step by step as the components send it; CUDA in containers; re-apply; destroy.",
        "",
        "## Machine",
        "```",
        machine,
        "```",
        "",
        driverOnly ? "## Steps (the driver steps only: `run.sh driver`)" : "## Steps (apply, then re-apply)",
        "```",
        ...(driverOnly
            ? ["driver.steps", "driver-destroy.steps", "driver-branch.steps", "driver-branch-destroy.steps"].map((f) => `--- ${f}\n${readIfThere(f)}`)
            : [
                  readIfThere("apply.steps"),
                  "--- re-apply",
                  readIfThere("reapply.steps"),
                  "--- destroy",
                  readIfThere("destroy.steps"),
                  "--- driver.branch: its driver steps, then their undo",
                  readIfThere("branch.steps"),
                  readIfThere("branch-destroy.steps"),
              ]),
        "```",
        "",
        "## Checks",
        "| check | result | detail |",
        "|---|---|---|",
        ...checks.map((c) => `| ${c.name} | ${c.passed ? "passed" : "FAILED"} | ${c.detail.replace(/\|/g, "\\|")} |`),
        "",
        `${checks.length - failed.length} passed, ${failed.length} failed.`,
        "",
    ];
    const file = path.join(REPO_ROOT, "test", "gpu", "results", `gpu-${date}.md`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, out.join("\n"));
    console.log(`${checks.length - failed.length} passed, ${failed.length} failed; wrote ${path.relative(REPO_ROOT, file)}`);
    for (const c of failed) console.log(`FAILED ${c.name}: ${c.detail}`);
    return failed.length === 0;
}
