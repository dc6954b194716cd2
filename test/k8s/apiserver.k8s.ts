import { strict as assert } from "node:assert";
import { ControlPlane, startControlPlane } from "./controlPlane";
import { CUDA_IMAGE, OPTION_SETS, STAND_IN_NODE, render } from "./optionSets";
import { runtimeClassManifest } from "../../sdk/kubernetes/manifests";

// Every object KubernetesGpuSupport and GpuWorkload register, across the option sets, sent to a real kube-apiserver
// v1.34.4 (loopback, Pod Security `baseline` enforced cluster-wide): server-side apply, dry run, strict validation.
describe("the components' objects on a real kube-apiserver (test/k8s)", function () {
    this.timeout(300_000);
    let cp: ControlPlane;

    before(async () => {
        cp = await startControlPlane();
        cp.kubectl(["create", "namespace", "gpu-system"]);
        cp.kubectl(["create", "namespace", "restricted"]);
        cp.kubectl(["label", "namespace", "restricted", "pod-security.kubernetes.io/enforce=restricted"]);
        // A stand-in for a kubelet's registration: labelNodes patches a Node that exists.
        cp.kubectl(["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: STAND_IN_NODE } }));
        // Pods naming RuntimeClass nvidia are admitted only once it exists, as KubernetesGpuSupport creates it.
        cp.kubectl(["apply", "--server-side", "--field-manager=pulumi-nvidia-gpu", "-f", "-"], JSON.stringify(runtimeClassManifest()));
    });
    after(() => cp?.stop());

    const dryRunApply = (manifest: Record<string, unknown>) =>
        cp.tryKubectl(
            ["apply", "--server-side", "--dry-run=server", "--validate=strict", "--field-manager=pulumi-nvidia-gpu", "-f", "-"],
            JSON.stringify(manifest),
        );

    for (const set of OPTION_SETS) {
        it(`${set.name}: every object passes server-side apply (dry run, strict)`, async () => {
            const objects = await render(set);
            assert.ok(objects.length > 0);
            for (const o of objects) {
                // A RuntimeClass's handler is immutable: another runtimeName is checked as on a cluster without one.
                const other = o.manifest.kind === "RuntimeClass" && o.manifest.handler !== "nvidia";
                if (other) cp.kubectl(["delete", "runtimeclass", "nvidia"]);
                try {
                    const r = dryRunApply(o.manifest);
                    assert.equal(r.status, 0, `${o.manifest.kind} ${o.name}: ${r.output}`);
                } finally {
                    if (other) cp.kubectl(["apply", "--server-side", "--field-manager=pulumi-nvidia-gpu", "-f", "-"], JSON.stringify(runtimeClassManifest()));
                }
            }
        });
    }

    const asPod = (template: Record<string, any>, namespace: string) => ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "probe", namespace },
        spec: template.spec,
    });

    it("Pod Security: the device plugin is refused under baseline, and admitted once the component's namespace patch is applied", async () => {
        cp.kubectl(["create", "namespace", "operands"]);
        const objects = await render({ name: "operands", build: () => new (require("../../index").KubernetesGpuSupport)("gpu", { namespace: "operands" }) });
        const plugin = objects.find((o) => o.name === "gpu-device-plugin")!;
        const pod = JSON.stringify(asPod(plugin.manifest.spec.template, "operands"));
        const before = cp.tryKubectl(["create", "--dry-run=server", "-f", "-"], pod);
        assert.notEqual(before.status, 0);
        assert.match(before.output, /violates PodSecurity "baseline:latest": hostPath volumes/);
        const patch = objects.find((o) => o.manifest.kind === "Namespace")!;
        cp.kubectl(["apply", "--server-side", "--field-manager=pulumi-nvidia-gpu", "-f", "-"], JSON.stringify(patch.manifest));
        const after = cp.tryKubectl(["create", "--dry-run=server", "-f", "-"], pod);
        assert.equal(after.status, 0, after.output);
    });

    it("Pod Security: a GpuWorkload pod is admitted under restricted with securityContext, and refused without", async () => {
        const locked = (await render(OPTION_SETS.find((s) => s.name.includes("restricted"))!)).find((o) => o.manifest.kind === "Deployment")!;
        const admitted = cp.tryKubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(asPod(locked.manifest.spec.template, "restricted")));
        assert.equal(admitted.status, 0, admitted.output);
        const plain = (
            await render({ name: "plain", build: () => new (require("../../index").GpuWorkload)("plain", { image: CUDA_IMAGE, namespace: "restricted" }) })
        ).find((o) => o.manifest.kind === "Deployment")!;
        const refused = cp.tryKubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(asPod(plain.manifest.spec.template, "restricted")));
        assert.notEqual(refused.status, 0);
        assert.match(refused.output, /violates PodSecurity "restricted:latest"/);
    });

    it("the API server refuses the RuntimeClass handler the component now refuses first", () => {
        const r = dryRunApply({ apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", metadata: { name: "bad" }, handler: "Nvidia_Runtime" });
        assert.notEqual(r.status, 0);
        assert.match(r.output, /handler/);
    });
});
