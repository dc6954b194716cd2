import { strict as assert } from "node:assert";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseHostFacts } from "../../../sdk/host/hostFacts";
import { probeFixture } from "../../helpers/paths";
import { REPO_ROOT } from "../../helpers/paths";
import { FakeHostReader, installMocks, settle } from "../../helpers/pulumiMocks";

/** Runs an example program under Pulumi's mocks with a fake host, and returns the resource types it created. */
async function runExample(dir: string, config: Record<string, string>, probe = "examples/hosts/gpu-docker-1.probe.json"): Promise<string[]> {
    const project = `nvidia-gpu-${dir}`;
    const recorded = installMocks(true, () => "", project);
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${project}:${k}`, v])), []);
    const facts = parseHostFacts(probe.startsWith("examples/") ? require("node:fs").readFileSync(path.join(REPO_ROOT, probe), "utf8") : probeFixture(probe));
    const { setDefaultHostReader } = require("../../../index") as typeof import("../../../index");
    const previous = setDefaultHostReader(new FakeHostReader({ facts, files: {}, priorWrites: {}, containerdDump: undefined }));
    const file = path.join(REPO_ROOT, "examples", dir, "index.ts");
    delete require.cache[require.resolve(file)];
    try {
        require(file);
        await settle(300);
    } finally {
        setDefaultHostReader(previous);
    }
    return recorded.map((r) => r.type);
}

describe("examples run under Pulumi mocks", function () {
    this.timeout(30000);

    it("1. docker-host: a GpuNode and a DockerGpuContainer", async () => {
        const types = await runExample("docker-host", { host: "gpu-1.example" });
        assert.ok(types.includes("nvidia-gpu:index:GpuNode"));
        assert.ok(types.includes("nvidia-gpu:index:DockerGpuContainer"));
        assert.ok(types.filter((t) => t === "command:remote:Command").length >= 10);
    });

    it("2. rootless-workstation: a rootless GpuNode", async () => {
        const types = await runExample("rootless-workstation", { host: "ws.example" });
        assert.ok(types.includes("nvidia-gpu:index:GpuNode"));
        assert.ok(types.includes("command:remote:Command"));
    });

    it("3. containerd-kubernetes: GPU nodes, the device plugin with time-slicing, and a GpuWorkload", async () => {
        const types = await runExample(
            "containerd-kubernetes",
            { hosts: JSON.stringify(["a.example", "b.example"]), kubernetesNodeNames: JSON.stringify(["a"]) },
            "examples/hosts/gpu-k8s-1.probe.json",
        );
        assert.equal(types.filter((t) => t === "nvidia-gpu:index:GpuNode").length, 2);
        for (const t of [
            "nvidia-gpu:index:KubernetesGpuSupport",
            "kubernetes:apps/v1:DaemonSet",
            "kubernetes:core/v1:ConfigMap",
            "nvidia-gpu:index:GpuWorkload",
            "kubernetes:apps/v1:Deployment",
        ]) {
            assert.ok(types.includes(t), t);
        }
    });

    it("4. fleet-from-config: one GpuNode per configured node", async () => {
        const types = await runExample(
            "fleet-from-config",
            { nodes: JSON.stringify([{ host: "a" }, { host: "b", runtime: "containerd" }]) },
            "examples/hosts/gpu-k8s-1.probe.json",
        );
        assert.equal(types.filter((t) => t === "nvidia-gpu:index:GpuNode").length, 2);
    });

    it("unreal-pixel-streaming: a pinned engine image with the unreal-runtime preset", async () => {
        const types = await runExample("unreal-pixel-streaming", { host: "render.example" });
        assert.ok(types.includes("nvidia-gpu:index:DockerGpuContainer"));
    });
});
