import { strict as assert } from "node:assert";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseHostFacts } from "../../../sdk/host/hostFacts";
import { probeFixture } from "../../helpers/paths";
import { REPO_ROOT } from "../../helpers/paths";
import { FakeHostReader, installMocks, settle } from "../../helpers/pulumiMocks";

type Resolve = (request: string, ...rest: unknown[]) => string;
const loader = require("node:module") as { _resolveFilename: Resolve };

/**
 * The examples import the package by name, as a copied-out program does; here the name resolves to this checkout's
 * index.ts (standing in for the installed package), the module instance the test's host reader is set on.
 */
function withPackageName<T>(run: () => T): T {
    const resolve = loader._resolveFilename;
    loader._resolveFilename = (request, ...rest) => resolve(request === "pulumi-nvidia-gpu" ? path.join(REPO_ROOT, "index.ts") : request, ...rest);
    try {
        return run();
    } finally {
        loader._resolveFilename = resolve;
    }
}

/** Runs an example program under Pulumi's mocks with a fake host, and returns the resource types it created. */
async function runExample(
    dir: string,
    config: Record<string, string>,
    probe = "examples/hosts/gpu-docker-1.probe.json",
    into?: { name: string; inputs: Record<string, any> }[],
): Promise<string[]> {
    const project = `nvidia-gpu-${dir}`;
    const recorded = installMocks(true, () => "", project);
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${project}:${k}`, v])), []);
    const facts = parseHostFacts(probe.startsWith("examples/") ? require("node:fs").readFileSync(path.join(REPO_ROOT, probe), "utf8") : probeFixture(probe));
    const { setDefaultHostReader } = require("../../../index") as typeof import("../../../index");
    const previous = setDefaultHostReader(new FakeHostReader({ facts, files: {}, priorWrites: {}, containerdDump: undefined }));
    const file = path.join(REPO_ROOT, "examples", dir, "index.ts");
    delete require.cache[require.resolve(file)];
    try {
        withPackageName(() => require(file));
        await settle(300);
        into?.push(...recorded);
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

    it("unreal-pixel-streaming: signalling (80, 8888), STUN/TURN (19302/udp), and the game on the GPU with -PixelStreamingURL and the WebRTC UDP range", async () => {
        const recorded: { name: string; inputs: Record<string, any> }[] = [];
        const types = await runExample("unreal-pixel-streaming", { host: "render.example" }, undefined, recorded);
        assert.equal(types.filter((t) => t === "nvidia-gpu:index:DockerGpuContainer").length, 3);
        const script = (name: string) => {
            const c = recorded.find((r) => r.name === `${name}-container-${name}`);
            assert.ok(c, `${name}: ${recorded.map((r) => r.name).join(", ")}`);
            return String(c!.inputs.stdin);
        };
        const signalling = script("signalling");
        assert.match(signalling, /--publish 80:80\/tcp --publish 8888:8888\/tcp/);
        assert.doesNotMatch(signalling, /--gpus|--runtime=nvidia/, "the signalling server gets no GPU");
        assert.match(script("turn"), /--publish 19302:19302\/udp/);
        const game = script("pixel-streaming");
        assert.match(game, /--gpus 'all,"capabilities=utility,graphics,video"'/);
        assert.match(game, /--publish 49152-49215:49152-49215\/udp/);
        assert.match(game, /-PixelStreamingURL=ws:\/\/render\.example:8888/);
        assert.doesNotMatch(game, /PIXEL_STREAMING_PORT/);
    });
});
