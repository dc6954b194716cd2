import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GpuConfigError } from "../../../sdk/errors";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { runtimePlan } from "../../../sdk/node/nodePlan";
import { containerdEngine } from "../../../sdk/runtime/containerd";
import { CONTAINERD_CONFIG } from "../../../sdk/runtime/containerdConfig";
import { verifyRuntimesStep } from "../../../sdk/runtime/verifyStep";
import { runWithStandInTools } from "../../helpers/standInTools";
import { appliedContainerdSnapshot, realContainerd } from "../../helpers/realContainerd";

/**
 * A drop-in read after the plan's replaces the CRI section on containerd < 2.1 (containerd/containerd#5837), so the
 * runtime the plan registers is not loaded. The dumps come from Debian's real containerd binaries
 * (test/tools/fetch-containerd.sh), loading the plan's files beside the other drop-in. Found on the GPU machine:
 * the k8s phase's `99-zz-gpu-machine.toml` (`restrict_oom_score_adj = true` alone) left every CRI pod on plain runc.
 */
const CONTAINERD = realContainerd;
const LATER_OOM = 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n';

describe("containerd's loaded config against the plan's drop-in (real containerd dumps)", function () {
    this.timeout(60000);
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerd-loaded-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const applied = (binary: string, laterDropIn: (ours: string) => string) => appliedContainerdSnapshot(dir, binary, laterDropIn);

    const plan = (snapshot: HostSnapshot) => runtimePlan(snapshot, { runtime: "containerd", setAsDefault: true });

    it("containerd 1.7: a later drop-in naming the CRI plugin hides the nvidia runtime; the plan refuses, naming the cause and the fix", () => {
        const snapshot = applied(CONTAINERD("1.7.24"), () => LATER_OOM);
        assert.doesNotMatch(snapshot.containerdDump!, /runtimes\.nvidia\]/, "containerd 1.7 itself loses the runtime");
        assert.throws(
            () => plan(snapshot),
            (e: unknown) =>
                e instanceof GpuConfigError &&
                /containerd-drop-in-overridden/.test(e.message) &&
                /has no nvidia runtime, though \/etc\/containerd\/conf\.d\/99-nvidia\.toml registers it/.test(e.message) &&
                /move that file's CRI settings into \/etc\/containerd\/config\.toml/.test(e.message),
        );
    });

    it("containerd 2.1 merges the same later drop-in key by key: the runtime is loaded and nothing is said", () => {
        const snapshot = applied(CONTAINERD("2.1"), () => LATER_OOM);
        assert.match(snapshot.containerdDump!, /runtimes\.nvidia\]/);
        assert.deepEqual(plan(snapshot).findings, []);
    });

    for (const version of ["1.7.24", "2.1"]) {
        it(`containerd ${version}: a later drop-in that sets runc as the default draws a warning that pods without runtimeClassName get no GPU`, () => {
            const snapshot = applied(CONTAINERD(version), (ours) => ours.replace('default_runtime_name = "nvidia"', 'default_runtime_name = "runc"'));
            assert.deepEqual(
                plan(snapshot).findings.map((f) => [f.id, f.severity]),
                [["containerd-default-overridden", "warning"]],
            );
            assert.match(plan(snapshot).findings[0].message, /makes runc the default runtime, though .*99-nvidia\.toml sets nvidia/);
        });
    }

    it("config.toml lost its imports line (a hand edit): the runtime is not loaded, but the plan repairs that itself, so nothing is refused", () => {
        const snapshot = applied(CONTAINERD("1.7.24"), () => "version = 2\n");
        fs.writeFileSync(path.join(dir, "config.toml"), "version = 2\n");
        const dump = execFileSync(CONTAINERD("1.7.24"), ["--config", path.join(dir, "config.toml"), "config", "dump"], { encoding: "utf8" });
        assert.doesNotMatch(dump, /runtimes\.nvidia\]/);
        const planned = plan({ ...snapshot, containerdDump: dump, files: { ...snapshot.files, [CONTAINERD_CONFIG]: "version = 2\n" } });
        assert.deepEqual(planned.findings, []);
        assert.equal(planned.files.find((f) => f.path === CONTAINERD_CONFIG)?.changed, true, "the imports line is written back");
    });

    it("with the plan's drop-in alone the loaded config matches it: no finding (containerd 1.7)", () => {
        const snapshot = applied(CONTAINERD("1.7.24"), () => "version = 2\n");
        assert.deepEqual(plan(snapshot).findings, []);
    });

    /** The verify step as a setAsDefault plan runs it, its `containerd` the real binary on the files above. */
    function verify(binary: string): ReturnType<typeof runWithStandInTools> {
        const step = verifyRuntimesStep([{ runtime: "containerd", verify: containerdEngine.verify! }], "nvidia", "", true);
        return runWithStandInTools(step.script, { containerd: `exec ${binary} --config ${path.join(dir, "config.toml")} "$@"` });
    }

    it("the verify step reads what containerd loads: the runtime and the default, then each override fails it with the loaded value (containerd 1.7)", () => {
        applied(CONTAINERD("1.7.24"), () => "version = 2\n");
        assert.deepEqual(verify(CONTAINERD("1.7.24")), { code: 0, stderr: "", calls: "containerd config dump\n" });
        applied(CONTAINERD("1.7.24"), () => LATER_OOM);
        assert.match(verify(CONTAINERD("1.7.24")).stderr, /^error: containerd config dump has no nvidia runtime$/m);
        applied(CONTAINERD("1.7.24"), (ours) => ours.replace('default_runtime_name = "nvidia"', 'default_runtime_name = "runc"'));
        const overridden = verify(CONTAINERD("1.7.24"));
        assert.equal(overridden.code, 8);
        assert.match(overridden.stderr, /^error: containerd's default runtime is runc, not nvidia \(containerd config dump\)$/m);
    });
});
