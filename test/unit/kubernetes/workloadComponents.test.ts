import { strict as assert } from "node:assert";
import { failure, installMocks, settle, valueOf } from "../../helpers/pulumiMocks";
import { validateManifest } from "./manifests.test";

const lib = () => require("../../../index") as typeof import("../../../index");

describe("Kubernetes and Docker workload components (pulumi mocks)", () => {
    it("KubernetesGpuSupport creates the RuntimeClass, the device plugin, sharing config, node labels and the validation Job", async () => {
        const recorded = installMocks(false);
        const { KubernetesGpuSupport, SharingStrategy } = lib();
        const support = new KubernetesGpuSupport("gpu", {
            sharing: { strategy: SharingStrategy.TimeSlicing, replicas: 4 },
            labelNodes: ["node-a"],
            validate: true,
        });
        await valueOf(support.runtimeClassName);
        await settle(100);
        const types = recorded.map((r) => r.type);
        for (const t of [
            "nvidia-gpu:index:KubernetesGpuSupport",
            "kubernetes:node.k8s.io/v1:RuntimeClass",
            "kubernetes:apps/v1:DaemonSet",
            "kubernetes:core/v1:ConfigMap",
            "kubernetes:core/v1:NodePatch",
            "kubernetes:batch/v1:Job",
        ]) {
            assert.ok(types.includes(t), t);
        }
        for (const kind of ["RuntimeClass", "DaemonSet", "ConfigMap", "Job"]) {
            const r = recorded.find((x) => x.type.endsWith(`:${kind}`))!;
            validateManifest({ ...r.inputs, apiVersion: r.inputs.apiVersion ?? r.type.split(":")[1].replace(/^core\//, ""), kind });
        }
        const patch = recorded.find((r) => r.type.endsWith("NodePatch"))!;
        assert.deepEqual(patch.inputs.metadata.labels, { "nvidia-gpu.pulumi.com/provisioned": "true" });
    });

    it("GpuWorkload fails the preview when the image's CUDA is too new for a node's driver", async () => {
        installMocks(true);
        const { GpuWorkload } = lib();
        const w = new GpuWorkload("infer", { image: "nvidia/cuda:13.1.0-runtime-ubuntu24.04", nodeDriverVersions: ["590.48.01", "580.159.04"] });
        assert.match(await failure(w.compatibility), /needs NVIDIA driver ≥ 590\.44\.01 for CUDA 13\.1\.0, but the node has 580\.159\.04/);
    });

    it("GpuWorkload refuses nvidia/cuda:latest at preview", async () => {
        installMocks(true);
        const w = new (lib().GpuWorkload)("bad", { image: "nvidia/cuda:latest" });
        assert.match(await failure(w.compatibility), /NVIDIA removed "latest"/);
    });

    it("GpuWorkload creates a Deployment (or Job) requesting nvidia.com/gpu on compatible nodes", async () => {
        const recorded = installMocks(true);
        const { GpuWorkload, WorkloadKind } = lib();
        const w = new GpuWorkload("train", {
            kind: WorkloadKind.Job,
            image: "nvidia/cuda:13.0.2-devel-ubuntu24.04",
            gpus: 2,
            nodeDriverVersions: ["580.159.04"],
            preset: "video",
        });
        assert.deepEqual(await valueOf(w.compatibility), ["nvidia/cuda:13.0.2-devel-ubuntu24.04 (CUDA 13.0.2) runs on driver 580.159.04 (needs ≥ 580.95.05)"]);
        await settle();
        const job = recorded.find((r) => r.type === "kubernetes:batch/v1:Job")!;
        validateManifest({ ...job.inputs, kind: "Job" });
        const container = job.inputs.spec.template.spec.containers[0];
        assert.deepEqual(container.resources.limits, { "nvidia.com/gpu": 2 });
        assert.deepEqual(container.env, [{ name: "NVIDIA_DRIVER_CAPABILITIES", value: "compute,utility,video" }]);
    });

    it("DockerGpuContainer runs one idempotent docker run on the node, checked against its driver", async () => {
        const recorded = installMocks(true);
        const { DockerGpuContainer } = lib();
        const { FakeHostReader } = require("../../helpers/pulumiMocks");
        const { parseHostFacts } = require("../../../sdk/host/hostFacts");
        const { probeFixture } = require("../../helpers/paths");
        const reader = new FakeHostReader({
            facts: parseHostFacts(probeFixture("h100-ubuntu2404-root.json")),
            files: {},
            priorWrites: {},
            containerdDump: undefined,
        });
        const c = new DockerGpuContainer(
            "smi",
            { connection: { host: "gpu-1" }, driverVersion: "580.159.04", image: "nvidia/cuda:12.4.1-base-ubuntu22.04", devices: ["0"], args: ["nvidia-smi"] },
            { hostReader: reader },
        );
        assert.match(await valueOf(c.compatibility), /runs on driver 580\.159\.04/);
        await settle();
        const cmd = recorded.find((r) => r.name === "smi-container-smi")!;
        const { dockerContainerStep } = require("../../../sdk/workloads/dockerContainer");
        const { invocationFor } = require("../../../sdk/steps/invocation");
        const step = dockerContainerStep({ name: "smi", image: "nvidia/cuda:12.4.1-base-ubuntu22.04", devices: ["0"], args: ["nvidia-smi"] });
        assert.equal(cmd.inputs.create, invocationFor(step, "root", "root").command);
        assert.equal(cmd.inputs.stdin, step.script);
        assert.match(cmd.inputs.delete, /docker rm -f smi/);
        const bad = new DockerGpuContainer(
            "old",
            { connection: { host: "gpu-1" }, driverVersion: "535.216.01", image: "nvidia/cuda:12.4.1-base-ubuntu22.04" },
            { hostReader: reader },
        );
        assert.match(await failure(bad.compatibility), /needs NVIDIA driver ≥ 550\.54\.15/);
    });
});

describe("a DockerGpuContainer on a node with a pinned driver, at preview (issue 12 bug 8)", () => {
    const node = (driver: { branch?: string; version?: string }) => {
        const { GpuNode } = lib();
        const { FakeHostReader } = require("../../helpers/pulumiMocks");
        const { serverFacts } = require("../../helpers/serverFacts");
        // A host without a driver: the pinned one is installed (a driver no package owns would refuse other pins, issue 23).
        const facts = {
            ...serverFacts(),
            driver: { loadedVersion: undefined, libraryVersion: undefined, kernelModule: undefined },
            driverOwnership: undefined,
        };
        return new GpuNode(
            "n",
            { connection: { host: "gpu-1" }, driver },
            { hostReader: new FakeHostReader({ facts, files: {}, priorWrites: {}, containerdDump: undefined }) },
        );
    };

    it("refuses a CUDA 13 image for a node pinned to driver 535.216.01, naming both versions, with the verify step's stdout unknown", async () => {
        installMocks(true);
        const { DockerGpuContainer } = lib();
        const c = new DockerGpuContainer("app", { ...node({ version: "535.216.01" }).dockerTarget(), image: "nvidia/cuda:13.0.2-base-ubuntu24.04" });
        assert.match(await failure(c.compatibility), /needs NVIDIA driver ≥ 580\.\d+\.\d+ for CUDA 13\.0\.2, but the node has 535\.216\.01/);
    });

    it("refuses it for a node pinned to branch 535, naming the branch", async () => {
        installMocks(true);
        const { DockerGpuContainer } = lib();
        const c = new DockerGpuContainer("app", { ...node({ branch: "535" }).dockerTarget(), image: "nvidia/cuda:13.0.2-base-ubuntu24.04" });
        assert.match(await failure(c.compatibility), /needs NVIDIA driver ≥ 580\.\d+\.\d+ \(CUDA 13\.0\.2\); the node is pinned to driver branch 535/);
    });

    it("accepts a CUDA 12.2 image on branch 535", async () => {
        installMocks(true);
        const { DockerGpuContainer } = lib();
        const c = new DockerGpuContainer("app", { ...node({ branch: "535" }).dockerTarget(), image: "nvidia/cuda:12.2.2-base-ubuntu22.04" });
        assert.match(await valueOf(c.compatibility), /runs on driver branch 535/);
    });
});

describe("GpuNode outputs with a secret key (issue 12 bug 9)", () => {
    it("keeps gpus, steps, findings, driverVersion and dockerHost readable although the key is secret", async () => {
        installMocks(true);
        const pulumi = require("@pulumi/pulumi");
        const { GpuNode } = lib();
        const { FakeHostReader, isSecret } = require("../../helpers/pulumiMocks");
        const { serverFacts } = require("../../helpers/serverFacts");
        const n = new GpuNode(
            "n",
            { connection: { host: "gpu-1", privateKey: pulumi.secret("KEY") } },
            { hostReader: new FakeHostReader({ facts: serverFacts(), files: {}, priorWrites: {}, containerdDump: undefined }) },
        );
        for (const [name, output] of Object.entries({
            gpus: n.gpus,
            steps: n.steps,
            findings: n.findings,
            driverVersion: n.driverVersion,
            dockerHost: n.dockerHost,
            plan: n.plan,
        })) {
            assert.equal(await isSecret(output as any), false, `${name} is not secret`);
        }
    });

    it("gives a rootless node's dockerHost the rootless user, whose daemon it is (issue 13)", async () => {
        installMocks(true);
        const { GpuNode, ContainerRuntime } = lib();
        const { FakeHostReader } = require("../../helpers/pulumiMocks");
        const { serverFacts } = require("../../helpers/serverFacts");
        const n = new GpuNode(
            "n",
            { connection: { host: "gpu-1", port: 2222 }, runtime: ContainerRuntime.DockerRootless, rootlessUser: "alice" },
            { hostReader: new FakeHostReader({ facts: serverFacts(), files: {}, priorWrites: {}, containerdDump: undefined }) },
        );
        assert.equal(await valueOf(n.dockerHost), "ssh://alice@gpu-1:2222");
    });
});
