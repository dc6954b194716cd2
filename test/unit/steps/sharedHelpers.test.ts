import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OBSERVER_FUNCTIONS } from "../../../sdk/host/managedObjects";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { nodePlan } from "../../../sdk/node/nodePlan";
import { PREAMBLE } from "../../../sdk/shell/preamble";
import { textOf } from "../../../sdk/shell/shellScript";
import { BACKUP_ONCE, RESTORE_FROM_BACKUP, backupPath, fileStep, sha256 } from "../../../sdk/steps/fileStep";
import { invocationFor } from "../../../sdk/steps/invocation";
import { manageObjects } from "../../../sdk/steps/managedObjectStep";
import { PlanStep } from "../../../sdk/steps/planStep";
import { renderResult } from "../../../sdk/steps/renderResult";
import { helpersPath, helpersText, withSharedHelpers } from "../../../sdk/steps/sharedHelpers";
import { CLEANUP, withStateCleanup } from "../../../sdk/steps/stateCleanup";
import { serverFacts } from "../../helpers/serverFacts";

const emptyHost = (): HostSnapshot => ({ facts: serverFacts(), files: {}, priorWrites: {}, containerdDump: undefined });
const bytes = (steps: PlanStep[]) => steps.reduce((n, s) => n + s.script.length + (s.undoScript ?? "").length, 0);

/** A GpuNode's steps as planOnHost makes them: managed objects, state cleanup, then the shared helpers. */
function gpuNodeSteps(snapshot: HostSnapshot, runtime: "docker" | "docker-rootless" = "docker"): { before: PlanStep[]; after: PlanStep[] } {
    const plan = nodePlan(snapshot, { runtime, rootlessUser: "alice", enableCdi: true, toolkit: { version: "1.20.0-1" } }).plan.steps;
    const before = withStateCleanup(manageObjects(plan, snapshot));
    return { before, after: withSharedHelpers(before, "gpu-0", snapshot) };
}

describe("shared helpers: a GpuNode's steps source one helpers file instead of repeating it (issue 24, state size)", () => {
    it("puts a helpers step first, and leaves none of the shared blocks in any root step's script or undo", () => {
        const { before, after } = gpuNodeSteps(emptyHost());
        assert.equal(after[0].name, "helpers");
        assert.match(after[0].script, /cat > "\$tmp" <<'NVIDIA_GPU_HELPERS_EOF'/);
        assert.deepEqual(
            after.slice(1).map((s) => s.name),
            before.map((s) => s.name),
        );
        for (const step of after.slice(1)) {
            assert.equal(step.sources, helpersPath("gpu-0"), step.name);
            for (const text of [step.script, step.undoScript ?? ""]) {
                for (const block of [textOf(PREAMBLE), textOf(OBSERVER_FUNCTIONS), textOf(BACKUP_ONCE), textOf(RESTORE_FROM_BACKUP), CLEANUP]) {
                    assert.ok(!text.includes(block), `${step.name} still holds ${block.slice(0, 40)}…`);
                }
            }
        }
        assert.ok(bytes(after) < bytes(before) * 0.7, `scripts and undos: ${bytes(before)} bytes before, ${bytes(after)} after (with the helpers step)`);
    });

    it("keeps a step that runs as the rootless user whole (the file is root's)", () => {
        const { before, after } = gpuNodeSteps(emptyHost(), "docker-rootless");
        const asUser = before.filter((s) => s.runAs !== undefined);
        assert.ok(asUser.length > 0, "the rootless plan has steps run as alice");
        for (const s of asUser)
            assert.deepEqual(
                after.find((a) => a.name === s.name),
                s,
            );
    });

    it("changes the helpers step's inputs when the file drifts, and only then", () => {
        const path = helpersPath("gpu-0");
        const sum = sha256(helpersText());
        const helpers = (snapshot: HostSnapshot) => gpuNodeSteps(snapshot).after[0].script;
        const first = helpers(emptyHost());
        const converged = helpers({ ...emptyHost(), binaryFiles: { [path]: { sum } }, generations: { [path]: 0 } });
        assert.equal(converged, first, "converged: the same inputs as the run that wrote it");
        const removed = helpers({ ...emptyHost(), binaryFiles: { [path]: { sum: "absent" } }, generations: { [path]: 0 } });
        const edited = helpers({ ...emptyHost(), binaryFiles: { [path]: { sum: sha256("edited") } }, generations: { [path]: 0 } });
        assert.notEqual(removed, first, "removed by hand: the step runs again");
        assert.notEqual(edited, first, "edited by hand: the step runs again");
        assert.equal(helpers({ ...emptyHost(), binaryFiles: { [path]: { sum } }, generations: { [path]: 1 } }), removed, "after the repair: converged again");
    });

    describe("run for real (the state under /var/lib/pulumi-nvidia-gpu, as on a host)", () => {
        const component = `unit-shared-helpers-${process.pid}`;
        let dir: string;
        beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "shared-helpers-"))));
        afterEach(() => {
            fs.rmSync(dir, { recursive: true, force: true });
            fs.rmSync(path.dirname(backupPath(path.join(dir, "x"), false)), { recursive: true, force: true });
            fs.rmSync(helpersPath(component), { force: true });
        });

        /** Runs a step as a component sends it: its command line, the script on stdin (undo in argv). */
        function send(step: PlanStep, undo = false): { status: number | null; stdout: string; stderr: string } {
            const inv = undo ? invocationFor({ ...step, script: step.undoScript! }, "root", "root", "argv") : invocationFor(step, "root", "root");
            const r = spawnSync("sh", ["-c", inv.command], { input: inv.stdin ?? "", encoding: "utf8" });
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        }

        it("writes, backs up and restores a file exactly as the self-contained step does", () => {
            const target = path.join(dir, "daemon.json");
            const original = '{"bridge": "none"}\n';
            const step = (): PlanStep =>
                fileStep("docker-daemon-json", "test", renderResult(target, original, '{"runtimes": {}}\n', ["runtimes"]), { guard: sha256(original) });
            const outcome = (steps: PlanStep[]) => {
                fs.writeFileSync(target, original);
                const applied = steps.map((s) => send(s));
                const written = fs.readFileSync(target, "utf8");
                const again = send(steps.at(-1)!);
                const undone = [...steps].reverse().map((s) => send(s, true));
                return {
                    status: [...applied, again, ...undone].map((r) => `${r.status} ${r.stderr}`),
                    stdout: [...applied.slice(-1), again, undone[0]].map((r) => r.stdout),
                    written,
                    restored: fs.readFileSync(target, "utf8"),
                };
            };
            const whole = outcome(withStateCleanup([step()]));
            const shared = withSharedHelpers(withStateCleanup([step()]), component, emptyHost());
            assert.equal(shared.length, 2);
            assert.match(send(shared[1]).stderr, /cannot open|can't open|No such file/, "without the helpers file the step stops at once");
            fs.writeFileSync(target, original);
            fs.rmSync(path.dirname(backupPath(target, false)), { recursive: true, force: true });
            const viaHelpers = outcome(shared);
            assert.deepEqual(viaHelpers.stdout, whole.stdout);
            assert.equal(viaHelpers.written, '{"runtimes": {}}\n');
            assert.equal(viaHelpers.restored, original);
            assert.ok(
                [...whole.status, ...viaHelpers.status].every((s) => s.startsWith("0 ")),
                [...whole.status, ...viaHelpers.status].join("\n"),
            );
            assert.ok(!fs.existsSync(helpersPath(component)), "the helpers step's undo removed the file");
        });
    });
});
