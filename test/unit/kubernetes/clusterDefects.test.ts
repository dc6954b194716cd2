import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { failure, installMocks, settle, valueOf } from "../../helpers/pulumiMocks";
import { validateManifest } from "./manifests.test";

// The five defects issue 25 found against a real kube-apiserver, each as the components register it.
const lib = () => require("../../../index") as typeof import("../../../index");

describe("Kubernetes components: the defects a real API server showed (issue 25)", () => {
    it("GpuWorkload kind Pod registers a Pod, and an unknown kind is refused by the field's name", async () => {
        const recorded = installMocks(true);
        const { GpuWorkload } = lib();
        new GpuWorkload("smi", { kind: "Pod" as any, image: "nvidia/cuda:13.0.2-base-ubuntu24.04", command: ["nvidia-smi"] });
        await settle(100);
        const pod = recorded.find((r) => r.type === "kubernetes:core/v1:Pod");
        assert.ok(pod, `registered: ${recorded.map((r) => r.type).join(", ")}`);
        assert.equal(recorded.filter((r) => r.type === "kubernetes:apps/v1:Deployment").length, 0);
        validateManifest({ ...pod.inputs, apiVersion: "v1", kind: "Pod" });
        assert.deepEqual(pod.inputs.spec.containers[0].resources.limits, { "nvidia.com/gpu": 1 });

        installMocks(true);
        const bad = new GpuWorkload("bad", { kind: "StatefulSet" as any, image: "nvidia/cuda:13.0.2-base-ubuntu24.04" });
        assert.match(await failure(bad.compatibility), /kind: "StatefulSet" is not supported.*Deployment, Job, Pod/);
    });

    it("the validation Job selects the nodes the device plugin selects", async () => {
        const recorded = installMocks(false);
        const { KubernetesGpuSupport } = lib();
        const support = new KubernetesGpuSupport("gpu", { nodeSelector: { pool: "gpu" }, validate: true });
        await valueOf(support.runtimeClassName);
        await settle(100);
        const job = recorded.find((r) => r.type === "kubernetes:batch/v1:Job")!;
        const plugin = recorded.find((r) => r.name === "gpu-device-plugin")!;
        assert.deepEqual(plugin.inputs.spec.template.spec.nodeSelector, { pool: "gpu" });
        assert.deepEqual(job.inputs.spec.template.spec.nodeSelector, { pool: "gpu" });
    });

    it("the RuntimeClass handler is GpuNode's runtimeName, and a name containerd cannot take is refused", async () => {
        const recorded = installMocks(false);
        const { KubernetesGpuSupport } = lib();
        const support = new KubernetesGpuSupport("gpu", { runtimeName: "nvidia-cdi" } as any);
        await valueOf(support.runtimeClassName);
        await settle(50);
        const rc = recorded.find((r) => r.type === "kubernetes:node.k8s.io/v1:RuntimeClass")!;
        assert.equal(rc.inputs.handler, "nvidia-cdi");
        assert.equal(rc.inputs.metadata.name, "nvidia");

        installMocks(true);
        const bad = new KubernetesGpuSupport("bad", { runtimeName: "Nvidia_Runtime" } as any);
        assert.match(await failure(bad.runtimeClassName), /runtimeName: "Nvidia_Runtime" is not a lower-case DNS label/);
    });

    it("the operands' namespace is labelled privileged for Pod Security, unless turned off", async () => {
        const recorded = installMocks(false);
        const { KubernetesGpuSupport } = lib();
        const support = new KubernetesGpuSupport("gpu", { namespace: "gpu-system" });
        await valueOf(support.runtimeClassName);
        await settle(50);
        const patch = recorded.find((r) => r.type === "kubernetes:core/v1:NamespacePatch");
        assert.ok(patch, "a NamespacePatch");
        assert.equal(patch.inputs.metadata.name, "gpu-system");
        assert.equal(patch.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");

        const none = installMocks(false);
        new KubernetesGpuSupport("gpu", { privilegedNamespace: false } as any);
        await settle(50);
        assert.equal(none.filter((r) => r.type === "kubernetes:core/v1:NamespacePatch").length, 0);
    });

    it("GpuWorkload securityContext renders a pod that meets Pod Security restricted", async () => {
        const recorded = installMocks(true);
        const { GpuWorkload } = lib();
        new GpuWorkload("infer", { image: "nvidia/cuda:13.0.2-base-ubuntu24.04", securityContext: { runAsUser: 1000, runAsGroup: 1000 } } as any);
        await settle(100);
        const d = recorded.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
        const pod = d.inputs.spec.template.spec;
        assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
        assert.deepEqual(pod.containers[0].securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });

        installMocks(true);
        const root = new GpuWorkload("root", { image: "nvidia/cuda:13.0.2-base-ubuntu24.04", securityContext: { runAsUser: 0 } } as any);
        assert.match(await failure(root.compatibility), /securityContext\.runAsUser: 0 is root/);
    });

    it("a change to the sharing config changes the device plugin's pod template, so its pods roll", async () => {
        const templates: any[] = [];
        for (const replicas of [2, 4]) {
            const recorded = installMocks(false);
            const { KubernetesGpuSupport, SharingStrategy } = lib();
            new KubernetesGpuSupport("gpu", { sharing: { strategy: SharingStrategy.TimeSlicing, replicas } });
            await settle(100);
            const config = recorded.find((r) => r.type === "kubernetes:core/v1:ConfigMap")!.inputs.data["config.yaml"];
            const template = recorded.find((r) => r.name === "gpu-device-plugin")!.inputs.spec.template;
            const sha = createHash("sha256").update(config).digest("hex");
            assert.equal(template.metadata.annotations?.["nvidia-gpu.pulumi.com/config-sha256"], sha);
            templates.push(template);
        }
        assert.notDeepEqual(templates[0], templates[1]);
    });
});
