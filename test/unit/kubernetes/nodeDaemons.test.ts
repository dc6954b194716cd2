import { strict as assert } from "node:assert";
import { DCGM_EXPORTER_IMAGE, dcgmExporterDaemonSet, dcgmExporterService } from "../../../sdk/kubernetes/dcgmExporter";
import { featureDiscoveryDaemonSet } from "../../../sdk/kubernetes/featureDiscovery";
import { GPU_NODE_LABEL, devicePluginDaemonSet } from "../../../sdk/kubernetes/manifests";
import { MigStrategy } from "../../../sdk/kubernetes/migStrategy";
import { validateManifest } from "./manifests.test";

const envOf = (m: Record<string, any>) => Object.fromEntries(m.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
const GPU_POD = {
    runtimeClassName: "nvidia",
    priorityClassName: "system-node-critical",
    nodeSelector: { [GPU_NODE_LABEL]: "true" },
    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
};

describe("GPU Feature Discovery, DCGM exporter and the MIG strategy (schema-validated with kubernetes-models)", () => {
    it("GFD DaemonSet: the device plugin's pinned image, on the GPU nodes with the nvidia RuntimeClass, writing NFD's features.d", () => {
        const m = featureDiscoveryDaemonSet({ namespace: "kube-system" });
        validateManifest(m);
        const pod = m.spec.template.spec;
        assert.deepEqual([m.metadata.name, m.metadata.namespace], ["gpu-feature-discovery", "kube-system"]);
        assert.deepEqual({ ...pod, containers: undefined, volumes: undefined }, { ...GPU_POD, containers: undefined, volumes: undefined });
        const c = pod.containers[0];
        assert.equal(c.image, "nvcr.io/nvidia/k8s-device-plugin:v0.20.0");
        assert.deepEqual(c.command, ["gpu-feature-discovery"]);
        // The file output, not NodeFeature objects (0.19's default), which would need NFD's CRD and RBAC.
        assert.deepEqual(envOf(m), { GFD_USE_NODE_FEATURE_API: "false" });
        const dir = "/etc/kubernetes/node-feature-discovery/features.d";
        assert.deepEqual(c.volumeMounts[0], { name: "output-dir", mountPath: dir });
        assert.deepEqual(pod.volumes[0], { name: "output-dir", hostPath: { path: dir, type: "DirectoryOrCreate" } });
        assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        assert.equal(pod.serviceAccountName, undefined);
        assert.equal(
            featureDiscoveryDaemonSet({ namespace: "gpu", image: "registry.local/k8s-device-plugin:v0.20.0" }).spec.template.spec.containers[0].image,
            "registry.local/k8s-device-plugin:v0.20.0",
        );
    });

    it("MIG strategy single or mixed: MIG_STRATEGY and the MIG monitor devices in the plugin and GFD, with CAP_SYS_ADMIN", () => {
        for (const strategy of [MigStrategy.Single, MigStrategy.Mixed]) {
            for (const m of [
                devicePluginDaemonSet({ namespace: "kube-system", migStrategy: strategy }),
                featureDiscoveryDaemonSet({ namespace: "kube-system", migStrategy: strategy }),
            ]) {
                validateManifest(m);
                assert.equal(envOf(m).MIG_STRATEGY, strategy, m.metadata.name);
                assert.equal(envOf(m).NVIDIA_MIG_MONITOR_DEVICES, "all", m.metadata.name);
                assert.deepEqual(m.spec.template.spec.containers[0].securityContext, { capabilities: { add: ["SYS_ADMIN"] } });
            }
        }
    });

    it("MIG strategy none leaves the device plugin as it was: no MIG environment, no capability", () => {
        const m = devicePluginDaemonSet({ namespace: "kube-system", migStrategy: MigStrategy.None });
        assert.deepEqual(m, devicePluginDaemonSet({ namespace: "kube-system" }));
        assert.deepEqual(envOf(m), { FAIL_ON_INIT_ERROR: "false" });
        assert.deepEqual(m.spec.template.spec.containers[0].securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    });

    it("DCGM exporter DaemonSet: pinned image, port 9400, pod-resources read-only, no service account token", () => {
        const m = dcgmExporterDaemonSet({ namespace: "monitoring", nodeSelector: { pool: "gpu" } });
        validateManifest(m);
        const pod = m.spec.template.spec;
        assert.equal(DCGM_EXPORTER_IMAGE, "nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless");
        const c = pod.containers[0];
        assert.equal(c.image, DCGM_EXPORTER_IMAGE);
        assert.deepEqual(c.ports, [{ name: "metrics", containerPort: 9400, protocol: "TCP" }]);
        assert.equal(envOf(m).DCGM_EXPORTER_LISTEN, ":9400");
        assert.equal(envOf(m).DCGM_EXPORTER_KUBERNETES, "true");
        assert.deepEqual(c.volumeMounts, [{ name: "pod-gpu-resources", mountPath: "/var/lib/kubelet/pod-resources", readOnly: true }]);
        assert.equal(c.readinessProbe.httpGet.port, 9400);
        assert.equal(pod.automountServiceAccountToken, false);
        assert.deepEqual(pod.nodeSelector, { pool: "gpu" });
        assert.equal(pod.runtimeClassName, "nvidia");
        assert.deepEqual(pod.tolerations, GPU_POD.tolerations);
    });

    it("DCGM exporter Service: selects the exporter pods on port 9400, annotated for Prometheus (no ServiceMonitor CRD)", () => {
        const s = dcgmExporterService("monitoring");
        validateManifest(s);
        const ds = dcgmExporterDaemonSet({ namespace: "monitoring" });
        assert.deepEqual(s.spec.selector, ds.spec.template.metadata.labels);
        assert.deepEqual(s.spec.ports, [{ name: "metrics", port: 9400, targetPort: "metrics", protocol: "TCP" }]);
        assert.deepEqual(s.metadata.annotations, { "prometheus.io/scrape": "true", "prometheus.io/port": "9400", "prometheus.io/path": "/metrics" });
    });

    it("the schema check catches a broken Service (the validator is real)", () => {
        const s = dcgmExporterService("monitoring");
        s.spec.ports[0].port = "9400";
        assert.throws(() => validateManifest(s), /port/);
    });
});
