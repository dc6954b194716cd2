import { strict as assert } from "node:assert";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Pod } from "kubernetes-models/v1/Pod";
import { Service } from "kubernetes-models/v1/Service";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { RuntimeClass } from "kubernetes-models/node.k8s.io/v1/RuntimeClass";
import {
    SharingStrategy,
    WorkloadKind,
    devicePluginDaemonSet,
    gpuWorkloadManifest,
    runtimeClassManifest,
    sharingConfigMap,
    validationJobManifest,
    GPU_NODE_LABEL,
} from "../../../sdk/kubernetes/manifests";

/** Validates a manifest against the Kubernetes OpenAPI schema (kubernetes-models), by kind. */
export function validateManifest(m: Record<string, any>): void {
    const models: Record<string, new (data: any) => { validate(): void }> = { RuntimeClass, DaemonSet, Deployment, Job, ConfigMap, Service, Pod };
    const Model = models[m.kind];
    assert.ok(Model, `no schema model for ${m.kind}`);
    new Model(m).validate();
}

describe("Kubernetes manifests (schema-validated with kubernetes-models)", () => {
    it("RuntimeClass nvidia with handler nvidia", () => {
        const m = runtimeClassManifest();
        validateManifest(m);
        assert.deepEqual([m.metadata.name, m.handler], ["nvidia", "nvidia"]);
    });

    it("device plugin DaemonSet: pinned image, toleration, system-node-critical, our node label, runtimeClassName", () => {
        const m = devicePluginDaemonSet({ namespace: "kube-system" });
        validateManifest(m);
        const pod = m.spec.template.spec;
        assert.equal(pod.containers[0].image, "nvcr.io/nvidia/k8s-device-plugin:v0.20.0");
        assert.deepEqual(pod.tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
        assert.equal(pod.priorityClassName, "system-node-critical");
        assert.deepEqual(pod.nodeSelector, { [GPU_NODE_LABEL]: "true" });
        assert.equal(pod.runtimeClassName, "nvidia");
    });

    it("time-slicing config with failRequestsGreaterThanOne on by default, mounted into the plugin", () => {
        const cm = sharingConfigMap("kube-system", { strategy: SharingStrategy.TimeSlicing, replicas: 4 });
        validateManifest(cm);
        assert.equal(
            cm.data["config.yaml"],
            "version: v1\nsharing:\n  timeSlicing:\n    failRequestsGreaterThanOne: true\n    resources:\n      - name: nvidia.com/gpu\n        replicas: 4\n",
        );
        const mps = sharingConfigMap("kube-system", { strategy: SharingStrategy.Mps, replicas: 2 });
        assert.match(mps.data["config.yaml"], /^ {2}mps:$/m);
        const ds = devicePluginDaemonSet({ namespace: "kube-system", withSharingConfig: true });
        validateManifest(ds);
        assert.deepEqual(ds.spec.template.spec.containers[0].env.at(-1), { name: "CONFIG_FILE", value: "/config/config.yaml" });
    });

    it("GPU Deployment and Job request nvidia.com/gpu with the nvidia RuntimeClass", () => {
        for (const kind of [WorkloadKind.Deployment, WorkloadKind.Job]) {
            const m = gpuWorkloadManifest({
                kind,
                name: "train",
                namespace: "ml",
                image: "nvidia/cuda:12.4.1-base-ubuntu22.04",
                gpus: 2,
                driverCapabilities: ["compute", "utility"],
            });
            validateManifest(m);
            const pod = m.spec.template.spec;
            assert.deepEqual(pod.containers[0].resources.limits, { "nvidia.com/gpu": 2 });
            assert.equal(pod.runtimeClassName, "nvidia");
            assert.deepEqual(pod.containers[0].env, [{ name: "NVIDIA_DRIVER_CAPABILITIES", value: "compute,utility" }]);
        }
    });

    it("validation Job runs nvidia-smi in a pinned CUDA base image", () => {
        const job = validationJobManifest("kube-system", undefined, "gpu-1");
        validateManifest(job);
        assert.deepEqual(job.spec.template.spec.containers[0].command, ["nvidia-smi"]);
        assert.match(job.spec.template.spec.containers[0].image, /^nvcr\.io\/nvidia\/cuda:\d+\.\d+\.\d+-base-/);
        assert.equal(job.spec.template.spec.nodeName, "gpu-1");
    });

    it("the schema check catches a broken manifest (the validator is real)", () => {
        const m = devicePluginDaemonSet({ namespace: "kube-system" });
        delete m.spec.selector;
        assert.throws(() => validateManifest(m), /selector/);
    });
});
