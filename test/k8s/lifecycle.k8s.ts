import { strict as assert } from "node:assert";
import { Stack, names, stateDir, userProject } from "../pulumi/engine";
import { ControlPlane, kubernetesBin, startControlPlane } from "./controlPlane";

/**
 * KubernetesGpuSupport and GpuWorkload through the real engine (tools/setup-engine.sh) and the real Kubernetes
 * provider (tools/kubernetes/setup.sh, on the engine's PATH as an ambient plugin) against a real loopback
 * kube-apiserver with Pod Security `baseline` enforced. No kubelet here: the Node is a stand-in for a kubelet's
 * registration, tainted so that no daemon pod is scheduled (DaemonSets are then ready with 0 desired), the
 * workload has 0 replicas, and the validation Job is off (it would wait for a GPU). The pods themselves run in
 * the GPU suite's k8s phase.
 */
const NODE = "gpu-node-1";
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { GpuWorkload, KubernetesGpuSupport, MigStrategy, SharingStrategy } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const support = new KubernetesGpuSupport("gpu", {
    labelNodes: ["${NODE}"],
    sharing: { strategy: SharingStrategy.TimeSlicing, replicas: cfg.requireNumber("replicas") },
    migStrategy: cfg.require("migStrategy") as MigStrategy,
    devicePluginImage: cfg.require("pluginImage"),
    runtimeName: cfg.require("runtimeName"),
});
new GpuWorkload("infer", { image: "nvidia/cuda:13.0.2-base-ubuntu24.04", replicas: 0, args: ["sleep", "infinity"] }, { dependsOn: [support] });
export const runtimeClassName = support.runtimeClassName;
`;

describe("KubernetesGpuSupport and GpuWorkload through the real engine and provider (test/k8s)", function () {
    this.timeout(900_000);
    let cp: ControlPlane;
    let stack: Stack;
    const kubectlJson = (args: string[]) => JSON.parse(cp.kubectl([...args, "-o", "json"])) as Record<string, any>;
    const plugin = () => kubectlJson(["get", "daemonset", "nvidia-device-plugin", "-n", "kube-system"]);

    before(async () => {
        cp = await startControlPlane();
        // A stand-in for a kubelet's registration; the taint keeps daemon pods off a node with no kubelet.
        cp.kubectl(
            ["create", "-f", "-"],
            JSON.stringify({
                apiVersion: "v1",
                kind: "Node",
                metadata: { name: NODE },
                spec: { taints: [{ key: "test.pulumi-nvidia-gpu/no-kubelet", value: "true", effect: "NoSchedule" }] },
            }),
        );
        stack = new Stack(userProject("k8s-lifecycle", PROGRAM), "test", stateDir("k8s-lifecycle"));
        Object.assign(stack.env, { KUBECONFIG: cp.kubeconfig, PATH: `${kubernetesBin("")}:${stack.env.PATH}` });
        stack.init({ replicas: "4", migStrategy: "none", pluginImage: "nvcr.io/nvidia/k8s-device-plugin:v0.17.4", runtimeName: "nvidia" });
    });
    after(() => {
        stack?.remove();
        cp?.stop();
    });

    it("preview shows every object, up creates them, and a second preview is clean", () => {
        const preview = stack.preview();
        const created = names(preview.steps, "create");
        for (const n of ["gpu-nvidia", "gpu-pod-security", `gpu-label-${NODE}`, "gpu-sharing", "gpu-device-plugin", "gpu-gpu-feature-discovery", "infer"]) {
            assert.ok(created.includes(n), `${n} not in ${created.join(", ")}`);
        }
        stack.up();
        assert.equal(kubectlJson(["get", "node", NODE]).metadata.labels["nvidia-gpu.pulumi.com/provisioned"], "true");
        assert.equal(kubectlJson(["get", "namespace", "kube-system"]).metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
        assert.equal(kubectlJson(["get", "runtimeclass", "nvidia"]).handler, "nvidia");
        assert.equal(kubectlJson(["get", "deployment", "infer", "-n", "default"]).spec.template.spec.runtimeClassName, "nvidia");
        const clean = stack.expectNoChanges();
        assert.equal(clean.code, 0, clean.stdout);
    });

    for (const [key, value, what] of [
        ["replicas", "2", "sharing.replicas 4 → 2"],
        ["migStrategy", "single", "migStrategy none → single"],
        ["pluginImage", "nvcr.io/nvidia/k8s-device-plugin:v0.17.3", "device plugin v0.17.4 → v0.17.3"],
    ]) {
        it(`${what} changes the plugin DaemonSet's pod template, so its pods roll`, () => {
            const before = plugin();
            stack.setConfig(key, value);
            const preview = stack.preview();
            assert.ok(names(preview.steps, "update", "replace").includes("gpu-device-plugin"), JSON.stringify(preview.steps.map((s) => [s.op, s.urn])));
            stack.up();
            const after = plugin();
            assert.notDeepEqual(after.spec.template, before.spec.template);
            assert.ok(after.metadata.generation > before.metadata.generation);
            const clean = stack.expectNoChanges();
            assert.equal(clean.code, 0, clean.stdout);
        });
    }

    // Drift is found by a refresh (the Kubernetes provider reads the live objects then), and the next up repairs it.
    it("drift made with kubectl (node label removed, plugin image changed, RuntimeClass deleted) is shown by a refreshing preview and repaired by up --refresh", () => {
        cp.kubectl(["label", "node", NODE, "nvidia-gpu.pulumi.com/provisioned-"]);
        cp.kubectl(["set", "image", "daemonset/nvidia-device-plugin", "-n", "kube-system", "nvidia-device-plugin=busybox:1.37"]);
        cp.kubectl(["delete", "runtimeclass", "nvidia"]);
        const drifted = stack.run(["preview", "--refresh", "--expect-no-changes", "--diff"], true);
        assert.notEqual(drifted.code, 0, `a refreshing preview saw no drift:\n${drifted.stdout}`);
        stack.run(["up", "--yes", "--skip-preview", "--refresh", "--diff"]);
        assert.equal(kubectlJson(["get", "node", NODE]).metadata.labels["nvidia-gpu.pulumi.com/provisioned"], "true");
        assert.equal(plugin().spec.template.spec.containers[0].image, "nvcr.io/nvidia/k8s-device-plugin:v0.17.3");
        assert.equal(kubectlJson(["get", "runtimeclass", "nvidia"]).handler, "nvidia");
        const clean = stack.run(["preview", "--refresh", "--expect-no-changes", "--diff"], true);
        assert.equal(clean.code, 0, clean.stdout);
    });

    // A RuntimeClass's handler is immutable on the apiserver: a new runtimeName must replace the object.
    it("runtimeName nvidia → nvidia-cdi replaces the RuntimeClass, whose handler follows it", () => {
        stack.setConfig("runtimeName", "nvidia-cdi");
        const preview = stack.preview();
        assert.ok(
            names(preview.steps, "replace", "delete-replaced", "create-replacement").includes("gpu-nvidia"),
            JSON.stringify(preview.steps.map((s) => [s.op, s.urn])),
        );
        stack.up();
        assert.equal(kubectlJson(["get", "runtimeclass", "nvidia"]).handler, "nvidia-cdi");
        const clean = stack.expectNoChanges();
        assert.equal(clean.code, 0, clean.stdout);
    });

    it("destroy removes every object, the node label and the namespace labels", () => {
        stack.destroy();
        assert.equal(kubectlJson(["get", "node", NODE]).metadata.labels?.["nvidia-gpu.pulumi.com/provisioned"], undefined);
        assert.equal(kubectlJson(["get", "namespace", "kube-system"]).metadata.labels?.["pod-security.kubernetes.io/enforce"], undefined);
        const names = (kind: string, ns: string) => kubectlJson(["get", kind, "-n", ns]).items.map((i: any) => i.metadata.name);
        assert.deepEqual(names("daemonsets", "kube-system"), []);
        assert.deepEqual(names("deployments", "default"), []);
        assert.ok(!names("configmaps", "kube-system").includes("nvidia-device-plugin-config"));
        assert.equal(cp.tryKubectl(["get", "runtimeclass", "nvidia"]).status, 1);
    });
});
