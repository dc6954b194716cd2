import { strict as assert } from "node:assert";
import { serverFacts } from "../../helpers/serverFacts";
import { GpuConfigError } from "../../../sdk/errors";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { injectionMode, validateRuntimeMode } from "../../../sdk/toolkit/injectionMode";
import { nodePlan } from "../../../sdk/node/nodePlan";
import { toolkitPlan } from "../../../sdk/toolkit/toolkitPlan";
import { DEFAULT_TOOLKIT_CONFIG, TOOLKIT_CONFIG } from "../../../sdk/toolkit/toolkitConfig";
import { PlanReport, changesOf, formatReport } from "../../../sdk/report/planReport";

/** The H100 server with a toolkit config as the package leaves it (or none: a host before the toolkit install). */
function snapshot(toolkitConfig: string | null = DEFAULT_TOOLKIT_CONFIG): HostSnapshot {
    const files = { [TOOLKIT_CONFIG]: toolkitConfig ?? undefined, "/etc/docker/daemon.json": "{}\n" };
    return { facts: serverFacts(), files, priorWrites: {}, containerdDump: undefined };
}

function configError(fn: () => unknown): GpuConfigError {
    try {
        fn();
    } catch (error) {
        assert.ok(error instanceof GpuConfigError, `a GpuConfigError, not ${String(error)}`);
        return error;
    }
    assert.fail("no error");
}

describe("toolkit.mode: the runtime's injection mode (issue 16)", () => {
    describe("validation against the toolkit version", () => {
        it("refuses jit-cdi before toolkit 1.18, naming the field, the version and the fix", () => {
            const error = configError(() => validateRuntimeMode("jit-cdi", "1.17.8-1"));
            assert.equal(error.field, "toolkit.mode");
            assert.match(error.message, /jit-cdi needs toolkit 1\.18\.0 or newer, and toolkit\.version is 1\.17\.8-1/);
            assert.match(error.fix, /set toolkit\.version to 1\.18\.0-1 or newer, or choose cdi, legacy or auto/);
        });

        it("refuses cdi before toolkit 1.12", () => {
            const error = configError(() => validateRuntimeMode("cdi", "1.11.0-1"));
            assert.match(error.message, /cdi needs toolkit 1\.12\.0 or newer/);
        });

        it("accepts each mode from its first release, release candidates included, and legacy and auto on any", () => {
            assert.equal(validateRuntimeMode("jit-cdi", "1.18.0-1"), "jit-cdi");
            assert.equal(validateRuntimeMode("jit-cdi", "1.18.0~rc.1-1"), "jit-cdi");
            assert.equal(validateRuntimeMode("cdi", "1.12.0-1"), "cdi");
            assert.equal(validateRuntimeMode("legacy", "1.10.0-1"), "legacy");
            assert.equal(validateRuntimeMode("auto", "1.10.0-1"), "auto");
            assert.equal(validateRuntimeMode(undefined, "1.10.0-1"), undefined);
        });

        it("refuses a mode the plan does not offer, listing those it does", () => {
            const error = configError(() => validateRuntimeMode("jitcdi", "1.20.0-1"));
            assert.equal(error.field, "toolkit.mode");
            assert.match(error.fix, /use one of: auto, jit-cdi, cdi, legacy/);
        });

        it("is checked before any step exists: toolkitPlan and nodePlan refuse the same spec", () => {
            assert.throws(() => toolkitPlan({ version: "1.17.8-1", packageManager: "apt", mode: "jit-cdi" }), /toolkit\.mode: jit-cdi needs toolkit 1\.18\.0/);
            assert.throws(
                () => nodePlan(snapshot(), { runtime: "docker", toolkit: { version: "1.17.8-1", mode: "jit-cdi" } }),
                /toolkit\.mode: jit-cdi needs toolkit 1\.18\.0/,
            );
        });
    });

    describe("the mode in effect", () => {
        it("resolves auto to jit-cdi from toolkit 1.18 and to legacy before", () => {
            const now = injectionMode("1.20.0-1", undefined, DEFAULT_TOOLKIT_CONFIG);
            assert.deepEqual([now.mode, now.configured, now.source], ["jit-cdi", "auto", "host config.toml"]);
            assert.match(now.reason, /toolkit 1\.20\.0-1 resolves "auto" to jit-cdi/);
            assert.match(now.reason, /NVIDIA_REQUIRE_CUDA.*#1470/);
            const before = injectionMode("1.17.8-1", undefined, undefined);
            assert.deepEqual([before.mode, before.configured, before.source], ["legacy", "auto", "package default"]);
            assert.doesNotMatch(before.reason, /NVIDIA_REQUIRE_CUDA/, "legacy mode still checks the requirement");
        });

        it("keeps a mode the host's config sets when none is chosen, and the chosen one otherwise", () => {
            const live = DEFAULT_TOOLKIT_CONFIG.replace('mode = "auto"', 'mode = "legacy"');
            const kept = injectionMode("1.20.0-1", undefined, live);
            assert.deepEqual([kept.mode, kept.source], ["legacy", "host config.toml"]);
            assert.match(kept.reason, /set toolkit\.mode to choose/);
            const chosen = injectionMode("1.20.0-1", "cdi", live);
            assert.deepEqual([chosen.mode, chosen.configured, chosen.source], ["cdi", "cdi", "toolkit.mode"]);
            assert.deepEqual(injectionMode("1.17.8-1", "auto", live).mode, "legacy");
        });
    });

    describe("the toolkit plan writes the mode", () => {
        it("adds no toolkit-config step when no mode is chosen (the host's setting stays)", () => {
            assert.deepEqual(
                toolkitPlan({ version: "1.20.0-1", packageManager: "apt" }, snapshot()).map((s) => s.name),
                ["toolkit-prerequisites", "toolkit-key", "toolkit-repo", "toolkit-packages"],
            );
        });

        it("renders the mode into the live config.toml as a guarded write, previewable byte for byte", () => {
            const steps = toolkitPlan({ version: "1.20.0-1", packageManager: "apt", mode: "legacy" }, snapshot());
            const step = steps[steps.length - 1];
            assert.equal(step.name, "toolkit-config");
            const [file] = step.files!;
            assert.equal(file.path, TOOLKIT_CONFIG);
            assert.equal(file.text, DEFAULT_TOOLKIT_CONFIG.replace('mode = "auto"', 'mode = "legacy"'));
            assert.deepEqual(file.summary, ['nvidia-container-runtime.mode: "auto" → "legacy"']);
            assert.ok(step.script.includes(file.text), "the step writes the previewed text");
            assert.match(step.script, /changed since it was read for the preview/);
        });

        it("has nvidia-ctk set it once the package created the file, when the host had none at preview", () => {
            const steps = toolkitPlan({ version: "1.20.0-1", packageManager: "dnf", mode: "cdi" }, snapshot(null));
            assert.match(steps[steps.length - 1].script, /nvidia-ctk config --config-file "\$config" --in-place --set nvidia-container-runtime\.mode=cdi/);
            const unguarded = toolkitPlan({ version: "1.20.0-1", packageManager: "dnf", mode: "cdi" });
            assert.match(unguarded[unguarded.length - 1].script, /--set nvidia-container-runtime\.mode=cdi/);
        });

        it("is a no-op on a converged host: the file already says the mode", () => {
            const live = DEFAULT_TOOLKIT_CONFIG.replace('mode = "auto"', 'mode = "jit-cdi"');
            const step = toolkitPlan({ version: "1.20.0-1", packageManager: "apt", mode: "jit-cdi" }, snapshot(live)).find((s) => s.name === "toolkit-config")!;
            assert.equal(step.files![0].changed, false);
        });
    });

    describe("in a node's plan", () => {
        it("writes rootless Docker's no-cgroups and the mode in one toolkit-config step: the file has one writer", () => {
            const plan = nodePlan(snapshot(), { runtime: "docker-rootless", rootlessUser: "alice", toolkit: { version: "1.20.0-1", mode: "legacy" } });
            const writers = plan.plan.steps.filter((s) => s.changes.includes(TOOLKIT_CONFIG));
            assert.deepEqual(
                writers.map((s) => s.name),
                ["toolkit-config"],
            );
            const file = plan.files.find((f) => f.path === TOOLKIT_CONFIG)!;
            assert.equal(file.text, DEFAULT_TOOLKIT_CONFIG.replace('mode = "auto"', 'mode = "legacy"').replace("#no-cgroups = false", "no-cgroups = true"));
            assert.equal(plan.files.filter((f) => f.path === TOOLKIT_CONFIG).length, 1);
        });

        it("warns that `docker run --gpus` fails with cdi or jit-cdi unless nvidia is Docker's default runtime", () => {
            const findings = (spec: { mode?: string; setAsDefault?: boolean; runtime?: "docker" | "containerd" }) =>
                nodePlan(snapshot(), { runtime: spec.runtime ?? "docker", setAsDefault: spec.setAsDefault, toolkit: { version: "1.20.0-1", mode: spec.mode } })
                    .findings.filter((f) => f.id === "toolkit-mode-gpus-flag")
                    .map((f) => f.severity);
            assert.deepEqual(findings({ mode: "jit-cdi" }), ["warning"]);
            assert.deepEqual(findings({ mode: "cdi" }), ["warning"]);
            assert.deepEqual(findings({ mode: "cdi", setAsDefault: true }), []);
            assert.deepEqual(findings({ mode: "auto" }), []);
            assert.deepEqual(findings({}), []);
            assert.deepEqual(findings({ mode: "jit-cdi", runtime: "containerd" }), []);
        });
    });

    describe("the plan report", () => {
        const report = (mode: string, configured = "auto"): PlanReport => ({
            stack: "s",
            nodes: [
                {
                    name: "n",
                    host: "h",
                    status: "planned",
                    plan: {
                        steps: [],
                        packages: [],
                        files: [],
                        restarts: [],
                        findings: [],
                        injectionMode: { mode, configured, source: "package default", reason: `why ${mode}` },
                    },
                },
            ],
            kubernetes: [],
        });

        it("shows the injection mode of each node, in text and Markdown", () => {
            assert.match(formatReport(report("jit-cdi"), "text"), /\nInjection mode: jit-cdi — why jit-cdi\n/);
            assert.match(formatReport(report("jit-cdi"), "markdown"), /\n\*\*Injection mode:\*\* `jit-cdi` — why jit-cdi\n/);
        });

        it("counts a change of the mode since the baseline as a change", () => {
            assert.deepEqual(changesOf(report("jit-cdi"), report("legacy")).get("n")?.other, ["injection mode legacy → jit-cdi"]);
            assert.equal(changesOf(report("jit-cdi"), report("jit-cdi")).size, 0);
        });
    });
});
