import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { serverDocker, serverFacts } from "../../helpers/serverFacts";
import { planStack } from "../../../cli/offlinePlan";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { DEFAULT_TOOLKIT_CONFIG, TOOLKIT_CONFIG } from "../../../sdk/toolkit/toolkitConfig";
import { formatReport } from "../../../sdk/report/planReport";
import { REPO_ROOT } from "../../helpers/paths";
import { FakeHostReader, installMocks, settle, valueOf } from "../../helpers/pulumiMocks";
import { runCli } from "../../helpers/runCli";

function h100(toolkitConfig: string | undefined): HostSnapshot {
    const facts = serverFacts();
    facts.docker = serverDocker();
    return { facts, files: { [TOOLKIT_CONFIG]: toolkitConfig, "/etc/docker/daemon.json": "{}\n" }, priorWrites: {}, containerdDump: undefined };
}

/** Loads the components only after the mocks are in place. */
function components() {
    return require("../../../index") as typeof import("../../../index");
}

describe("toolkit.mode on the components, the stack config and the CLI (issue 16)", function () {
    this.timeout(60000);

    it("GpuNode: toolkit.mode becomes the toolkit-config command, and GpuNode.plan shows the mode in effect", async () => {
        const recorded = installMocks(true);
        const { GpuNode, RuntimeMode } = components();
        const node = new GpuNode(
            "mode-1",
            { connection: { host: "mode-1.example" }, toolkit: { mode: RuntimeMode.Legacy } },
            { hostReader: new FakeHostReader(h100(DEFAULT_TOOLKIT_CONFIG)) },
        );
        const plan = await valueOf(node.plan);
        await settle();
        assert.deepEqual(plan.injectionMode && [plan.injectionMode.mode, plan.injectionMode.configured, plan.injectionMode.source], [
            "legacy",
            "legacy",
            "toolkit.mode",
        ]);
        const file = plan.files.find((f) => f.path === TOOLKIT_CONFIG)!;
        assert.equal(file.text, DEFAULT_TOOLKIT_CONFIG.replace('mode = "auto"', 'mode = "legacy"'));
        const command = recorded.find((r) => r.name === "mode-1-toolkit-config")!;
        assert.ok(command.inputs.stdin.includes('mode = "legacy"'), "the command writes the previewed text");
    });

    it("GpuNode without toolkit.mode: no toolkit-config step, and the plan shows what auto resolves to for the pinned version", async () => {
        installMocks(true);
        const { GpuNode } = components();
        const node = new GpuNode(
            "mode-2",
            { connection: { host: "mode-2.example" }, toolkit: { version: "1.17.8-1" } },
            { hostReader: new FakeHostReader(h100(undefined)) },
        );
        const [plan, steps] = [await valueOf(node.plan), await valueOf(node.steps)];
        await settle();
        assert.ok(!steps.includes("toolkit-config"));
        assert.deepEqual([plan.injectionMode?.mode, plan.injectionMode?.source], ["legacy", "package default"]);
    });

    it("ContainerToolkit: reads the toolkit config only when it sets the mode, and writes it as its last step", async () => {
        installMocks(true);
        const { ContainerToolkit, RuntimeMode } = components();
        const reader = new FakeHostReader(h100(DEFAULT_TOOLKIT_CONFIG));
        const toolkit = new ContainerToolkit("tk", { connection: { host: "tk.example" }, mode: RuntimeMode.JitCdi }, { hostReader: reader });
        const steps = await valueOf(toolkit.steps);
        const plain = new ContainerToolkit("tk2", { connection: { host: "tk2.example" } }, { hostReader: reader });
        const plainSteps = await valueOf(plain.steps);
        await settle();
        assert.equal(steps[steps.length - 1], "toolkit-config");
        assert.ok(!plainSteps.includes("toolkit-config"));
        assert.ok(reader.asked[0].some((f) => f.path === TOOLKIT_CONFIG));
        assert.ok(!reader.asked[1].some((f) => f.path === TOOLKIT_CONFIG));
    });

    it("ContainerToolkit refuses jit-cdi on a toolkit before 1.18 with the field and the fix", async () => {
        installMocks(true);
        const { ContainerToolkit, RuntimeMode } = components();
        const toolkit = new ContainerToolkit(
            "tk3",
            { connection: { host: "tk3.example" }, version: "1.17.8-1", mode: RuntimeMode.JitCdi },
            { hostReader: new FakeHostReader(h100(DEFAULT_TOOLKIT_CONFIG)) },
        );
        const error = await new Promise<Error>((resolve) => (toolkit.steps as any).promise().then(() => resolve(new Error("none")), resolve));
        assert.match(error.message, /toolkit\.mode: jit-cdi needs toolkit 1\.18\.0 or newer.*set toolkit\.version to 1\.18\.0-1 or newer/);
    });

    describe("gpu-node plan with toolkit.mode in the stack config", () => {
        const dirs: string[] = [];
        after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
        function stack(toolkit: Record<string, unknown>): string {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-mode-"));
            dirs.push(dir);
            fs.cpSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            fs.cpSync(path.join(REPO_ROOT, "examples/hosts"), path.join(dir, "examples/hosts"), { recursive: true });
            const node = { name: "a", host: "a.example", toolkit, facts: { probeFile: "examples/hosts/gpu-docker-1.probe.json" } };
            fs.writeFileSync(path.join(dir, "Pulumi.t.yaml"), YAML.stringify({ config: { "nvidia-gpu-fleet:nodes": [node] } }));
            return dir;
        }

        it("plans the mode and prints it", async () => {
            const report = await planStack(stack({ mode: "cdi" }), "t");
            assert.equal(report.nodes[0].status, "planned", report.nodes[0].reason);
            assert.equal(report.nodes[0].plan?.injectionMode?.mode, "cdi");
            assert.ok(report.nodes[0].plan?.steps.some((s) => s.name === "toolkit-config"));
            assert.match(formatReport(report, "text"), /\nInjection mode: cdi — toolkit\.mode sets nvidia-container-runtime\.mode = "cdi"/);
            assert.ok(report.nodes[0].plan?.findings.some((f) => f.id === "toolkit-mode-gpus-flag"));
        });

        it("refuses a misspelt mode and a mode the pinned toolkit does not have, on that node's row", async () => {
            const misspelt = await planStack(stack({ mode: "jitcdi" }), "t");
            assert.equal(misspelt.nodes[0].status, "error");
            assert.match(misspelt.nodes[0].reason!, /toolkit\.mode/);
            const old = await planStack(stack({ mode: "jit-cdi", version: "1.17.8-1" }), "t");
            assert.equal(old.nodes[0].status, "error");
            assert.match(old.nodes[0].reason!, /jit-cdi needs toolkit 1\.18\.0 or newer/);
        });
    });

    it("gpu-node script toolkit --mode sets the mode with nvidia-ctk after the packages, and refuses an unknown one", async () => {
        const r = await runCli("script", "toolkit", "--pm", "apt", "--version", "1.20.0-1", "--mode", "legacy");
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.indexOf("--set nvidia-container-runtime.mode=legacy") > r.stdout.indexOf("toolkit-packages"));
        const bad = await runCli("script", "toolkit", "--pm", "apt", "--version", "1.20.0-1", "--mode", "csv");
        assert.equal(bad.code, 64);
        const old = await runCli("script", "toolkit", "--pm", "apt", "--version", "1.17.8-1", "--mode", "jit-cdi");
        assert.equal(old.code, 1);
        assert.match(old.stderr, /toolkit\.mode: jit-cdi needs toolkit 1\.18\.0/);
    });
});
