import { strict as assert } from "node:assert";
import { FakeHostReader, installMocks, settle, valueOf } from "../../helpers/pulumiMocks";
import { serverFacts } from "../../helpers/serverFacts";

const CONFIG_WITH_AUTH = `version = 2
[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.example.com".auth]
  username = "robot"
  password = "hunter2-registry-password"
`;
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

describe("registry credentials in an existing containerd config (issue 14)", () => {
    it("are sent only in secret stdin, and masked in GpuNode.plan", async () => {
        const recorded = installMocks(true);
        const { GpuNode, ContainerRuntime } = require("../../../index") as typeof import("../../../index");
        const snapshot = {
            facts: serverFacts(),
            files: {
                "/etc/containerd/config.toml": CONFIG_WITH_AUTH,
                "/etc/containerd/conf.d/99-nvidia.toml": undefined,
                "/etc/nvidia-container-runtime/config.toml": undefined,
            },
            priorWrites: {},
            containerdDump: undefined,
        };
        const node = new GpuNode("k8s", { connection: { host: "gpu-1" }, runtime: ContainerRuntime.Containerd }, { hostReader: new FakeHostReader(snapshot) });
        const plan = await valueOf(node.plan);
        await settle();
        assert.equal(JSON.stringify(plan).includes("hunter2-registry-password"), false, "the plan output is masked");
        const commands = recorded.filter((r) => r.type === "command:remote:Command");
        for (const c of commands) {
            const plain = typeof c.inputs.stdin === "string" ? c.inputs.stdin : "";
            assert.equal(
                plain.includes("hunter2-registry-password") || String(c.inputs.create).includes("hunter2"),
                false,
                `${c.name}: no password in plain inputs`,
            );
        }
        const carrying = commands.filter(
            (c) => typeof c.inputs.stdin === "object" && c.inputs.stdin?.[SECRET_SIG] && String(c.inputs.stdin.value).includes("hunter2-registry-password"),
        );
        assert.ok(carrying.length > 0, "the file's bytes still reach the host, through secret stdin");
    });
});

describe("a drop-in that copies registry credentials (issue 14)", () => {
    it("is written 0600, never more readable than root's, even where an earlier one was 0644", () => {
        const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
        const fs = require("node:fs") as typeof import("node:fs");
        const os = require("node:os") as typeof import("node:os");
        const path = require("node:path") as typeof import("node:path");
        const { nodePlan } = require("../../../sdk/node/nodePlan") as typeof import("../../../sdk/node/nodePlan");
        const { backupPath } = require("../../../sdk/steps/fileStep") as typeof import("../../../sdk/steps/fileStep");
        const snapshot = {
            facts: serverFacts(),
            files: {
                "/etc/containerd/config.toml": CONFIG_WITH_AUTH,
                "/etc/containerd/conf.d/99-nvidia.toml": undefined,
                "/etc/nvidia-container-runtime/config.toml": undefined,
            },
            priorWrites: {},
            containerdDump: undefined,
        };
        const step = nodePlan(snapshot, { runtime: "containerd", toolkit: { version: "1.20.0-1" } }).plan.steps.find((s) => s.name === "containerd-drop-in")!;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dropin-"));
        const target = path.join(dir, "99-nvidia.toml");
        try {
            fs.writeFileSync(target, "# an older drop-in\n", { mode: 0o644 });
            const script = step.script
                .replace(/^target=.*$/m, `target=${target}`)
                .replace(/^backup=.*$/m, `backup=${backupPath(target, false)}`)
                .replace(/^expected=.*$/m, "expected=any");
            const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(fs.statSync(target).mode & 0o777, 0o600);
            assert.ok(fs.readFileSync(target, "utf8").includes("hunter2-registry-password"), "every setting is kept, credentials included");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
            fs.rmSync(path.dirname(backupPath(target, false)), { recursive: true, force: true });
        }
    });
});
