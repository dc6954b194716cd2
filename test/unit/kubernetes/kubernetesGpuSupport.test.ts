import { strict as assert } from "node:assert";
import { failure, installMocks, settle, valueOf } from "../../helpers/pulumiMocks";
import type { MigLayoutArgs } from "../../../index";
import { validateManifest } from "./manifests.test";

const lib = () => require("../../../index") as typeof import("../../../index");

const envOf = (inputs: Record<string, any>) => Object.fromEntries(inputs.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));

/** The MIG layout a GpuNode would be given: every GPU split into seven 1g.18gb instances (H200). */
const all1g: MigLayoutArgs = { devices: [{ profiles: { "1g.18gb": 7 } }] };
const twoProfiles: MigLayoutArgs = {
    devices: [
        { gpus: ["0"], profiles: { "1g.18gb": 7 } },
        { gpus: ["1"], profiles: { "3g.71gb": 2 } },
    ],
};

describe("KubernetesGpuSupport: GPU Feature Discovery, DCGM exporter and the MIG strategy (pulumi mocks)", () => {
    it("runs GFD by default, beside the device plugin, and no DCGM exporter", async () => {
        const recorded = installMocks(true);
        const support = new (lib().KubernetesGpuSupport)("gpu", {});
        assert.equal(await valueOf(support.migStrategy), "none");
        await settle(100);
        const gfd = recorded.find((r) => r.name === "gpu-gpu-feature-discovery")!;
        assert.ok(gfd, recorded.map((r) => r.name).join(", "));
        assert.equal(gfd.type, "kubernetes:apps/v1:DaemonSet");
        validateManifest({ ...gfd.inputs, kind: "DaemonSet" });
        assert.deepEqual(gfd.inputs.spec.template.spec.containers[0].command, ["gpu-feature-discovery"]);
        assert.equal(
            recorded.some((r) => r.name.includes("dcgm")),
            false,
        );
    });

    it("featureDiscovery false leaves GFD out; dcgmExporter true adds its DaemonSet and Service, schema-valid", async () => {
        const recorded = installMocks(true);
        new (lib().KubernetesGpuSupport)("gpu", { featureDiscovery: false, dcgmExporter: true, namespace: "gpu-system" });
        await settle(100);
        assert.equal(
            recorded.some((r) => r.name.includes("feature-discovery")),
            false,
        );
        const ds = recorded.find((r) => r.type === "kubernetes:apps/v1:DaemonSet" && r.name === "gpu-dcgm-exporter")!;
        const svc = recorded.find((r) => r.type === "kubernetes:core/v1:Service" && r.name === "gpu-dcgm-exporter")!;
        assert.ok(ds && svc, recorded.map((r) => `${r.type} ${r.name}`).join(", "));
        validateManifest({ ...ds.inputs, kind: "DaemonSet" });
        validateManifest({ ...svc.inputs, kind: "Service" });
        assert.equal(ds.inputs.metadata.namespace, "gpu-system");
        assert.equal(ds.inputs.spec.template.spec.containers[0].image, "nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless");
        assert.equal(svc.inputs.spec.ports[0].port, 9400);
    });

    it("takes a pinned DCGM exporter image and refuses latest", async () => {
        const recorded = installMocks(true);
        const { KubernetesGpuSupport } = lib();
        new KubernetesGpuSupport("pinned", { dcgmExporter: true, dcgmExporterImage: "registry.local/dcgm-exporter:4.6.0-4.8.3-distroless" });
        new KubernetesGpuSupport("latest", { dcgmExporter: true, dcgmExporterImage: "nvcr.io/nvidia/k8s/dcgm-exporter:latest" });
        await settle(100);
        const exporters = recorded.filter((r) => r.type === "kubernetes:apps/v1:DaemonSet" && r.name.endsWith("-dcgm-exporter"));
        // The refused image fails the DaemonSet's inputs, so the engine (here the mocks) never registers it.
        assert.deepEqual(
            exporters.map((r) => [r.name, r.inputs.spec.template.spec.containers[0].image]),
            [["pinned-dcgm-exporter", "registry.local/dcgm-exporter:4.6.0-4.8.3-distroless"]],
        );
    });

    it("MIG strategy single, consistent with the nodes' layouts, reaches the device plugin and GFD", async () => {
        const recorded = installMocks(true);
        const { KubernetesGpuSupport, MigStrategy } = lib();
        const support = new KubernetesGpuSupport("gpu", { migStrategy: MigStrategy.Single, migLayouts: [all1g, { devices: [{ enabled: false }] }] });
        assert.equal(await valueOf(support.migStrategy), "single");
        await settle(100);
        for (const name of ["gpu-device-plugin", "gpu-gpu-feature-discovery"]) {
            const ds = recorded.find((r) => r.name === name)!;
            validateManifest({ ...ds.inputs, kind: "DaemonSet" });
            assert.equal(envOf(ds.inputs).MIG_STRATEGY, "single", name);
            assert.equal(envOf(ds.inputs).NVIDIA_MIG_MONITOR_DEVICES, "all", name);
        }
    });

    it("fails the preview when the strategy does not fit a node's layout, naming the field and the fix, and creates no plugin", async () => {
        const recorded = installMocks(true);
        const { KubernetesGpuSupport, MigStrategy } = lib();
        const single = new KubernetesGpuSupport("gpu", { migStrategy: MigStrategy.Single, migLayouts: [all1g, twoProfiles] });
        assert.match(
            await failure(single.migStrategy),
            /^migLayouts\[1\]\.devices\[1\]\.profiles: is 3g\.71gb on GPU 1, but migLayouts\[1\]\.devices\[0\] is 1g\.18gb; migStrategy "single" needs .* — use 1g\.18gb on every GPU of the node, or set migStrategy to "mixed"$/,
        );
        const byDefault = new KubernetesGpuSupport("other", { migLayouts: [all1g] });
        assert.match(
            await failure(byDefault.migStrategy),
            /^migStrategy: is "none", which exposes no MIG device, but migLayouts\[0\]\.devices\[0\] enables MIG/,
        );
        await settle(100);
        assert.equal(
            recorded.some((r) => r.name === "gpu-device-plugin" || r.name === "other-device-plugin"),
            false,
        );
        const mixed = new KubernetesGpuSupport("mixed", { migStrategy: MigStrategy.Mixed, migLayouts: [all1g, twoProfiles] });
        assert.equal(await valueOf(mixed.migStrategy), "mixed");
    });

    it("with the GPU Operator, turns off the operator's own GFD and exporter and gives it the MIG strategy", async () => {
        const recorded = installMocks(true);
        const { KubernetesGpuSupport, MigStrategy } = lib();
        new KubernetesGpuSupport("gpu", { gpuOperator: { version: "v26.7.0" }, dcgmExporter: true, migStrategy: MigStrategy.Mixed });
        await settle(100);
        const release = recorded.find((r) => r.type === "kubernetes:helm.sh/v3:Release")!;
        assert.deepEqual(release.inputs.values, {
            driver: { enabled: false },
            toolkit: { enabled: false },
            devicePlugin: { enabled: false },
            gfd: { enabled: false },
            dcgmExporter: { enabled: false },
            mig: { strategy: "mixed" },
        });
    });
});
