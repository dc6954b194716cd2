import { strict as assert } from "node:assert";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { nodePlan } from "../../../sdk/node/nodePlan";
import { TOOLKIT_CONFIG } from "../../../sdk/toolkit/toolkitConfig";
import { serverFacts } from "../../helpers/serverFacts";

const facts = serverFacts();
const host: HostSnapshot = { facts, files: { [TOOLKIT_CONFIG]: undefined }, priorWrites: {}, containerdDump: undefined };
const rootless = (mode?: string, version = "1.20.0-1") => nodePlan(host, { runtime: "docker-rootless", rootlessUser: "alice", toolkit: { version, mode } });
const setsNoCgroups = (plan: ReturnType<typeof rootless>) =>
    plan.files.some((f) => f.path === TOOLKIT_CONFIG && /^no-cgroups = true$/m.test(f.text)) ||
    plan.plan.steps.some((s) => s.script.includes("nvidia-container-cli.no-cgroups"));

describe("rootless Docker and the host-wide no-cgroups (issue 17, NVIDIA/nvidia-container-toolkit#85)", () => {
    it("leaves no-cgroups alone where the runtime injects through CDI (jit-cdi: toolkit ≥ 1.18's auto; cdi)", () => {
        for (const mode of [undefined, "auto", "jit-cdi", "cdi"]) {
            const plan = rootless(mode);
            assert.equal(setsNoCgroups(plan), false, `mode ${mode}`);
            assert.ok(!plan.findings.some((f) => f.id === "rootless-legacy-no-cgroups"), `mode ${mode}`);
            assert.ok(
                plan.plan.steps.some((s) => s.name === "cdi-spec"),
                "rootless containers get GPUs through the CDI spec",
            );
        }
    });

    it("sets no-cgroups in legacy mode, where nvidia-container-cli runs for the rootless daemon, and warns what it costs a rootful one", () => {
        for (const plan of [rootless("legacy"), rootless(undefined, "1.17.8-1")]) {
            assert.equal(setsNoCgroups(plan), true);
            const warning = plan.findings.find((f) => f.id === "rootless-legacy-no-cgroups");
            assert.equal(warning?.severity, "warning");
            assert.match(warning!.fix, /toolkit\.mode to jit-cdi or cdi/);
        }
    });
});

describe("a no-cgroups = true the plan does not ask for (review finding)", () => {
    const withLeftover = { ...host, files: { [TOOLKIT_CONFIG]: "[nvidia-container-cli]\nno-cgroups = true\n" } };
    const warnings = (spec: Parameters<typeof nodePlan>[1]) => nodePlan(withLeftover, spec).findings.filter((f) => f.id === "toolkit-no-cgroups-left");

    it("is named in a warning: left by a rootless node that moved off legacy mode, it still costs rootful --gpus containers their cgroups", () => {
        assert.equal(warnings({ runtime: "docker-rootless", rootlessUser: "alice", toolkit: { version: "1.20.0-1", mode: "jit-cdi" } }).length, 1);
        assert.equal(warnings({ runtime: "docker", toolkit: { version: "1.20.0-1" } }).length, 1);
    });

    it("is not warned of where the plan itself sets it (rootless, legacy)", () => {
        assert.equal(warnings({ runtime: "docker-rootless", rootlessUser: "alice", toolkit: { version: "1.20.0-1", mode: "legacy" } }).length, 0);
    });
});
