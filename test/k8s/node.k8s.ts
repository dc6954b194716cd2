import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { watchedFiles } from "../../sdk/node/watchedFiles";
import { validationJobManifest } from "../../sdk/kubernetes/manifests";
import { NodeSpec, nodePlan } from "../../sdk/node/nodePlan";
import { KUBEADM_CONFIG } from "../e2e/fleet/hostConfigs";
import { FleetNode, REPO_DIR, applySteps, failed, fingerprint, nodeExec, snapshot, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { Stack, stateDir, userProject } from "../pulumi/engine";
import { ControlPlane, kubernetesBin, startControlPlane } from "./controlPlane";

/**
 * A kubelet v1.34.4 on a fleet node (a systemd container of gpu-e2e-docker, Debian's containerd 1.6) whose containerd
 * the project's containerd plan configured over SSH, registered with the loopback control plane; then
 * KubernetesGpuSupport through the real engine and the real Kubernetes provider. The node has no GPU, so:
 * - NVIDIA's device plugin (built from its module, in a local image) runs with failOnInitError false and
 *   advertises nothing: that is asserted, not hidden;
 * - the validation Job is scheduled by the real scheduler and stays Pending, "Insufficient nvidia.com/gpu"; then,
 *   with a GPU STAND-IN (nvidia.com/gpu: 1 patched into the Node's status, the way Kubernetes documents advertising
 *   an extended resource, and an nvidia-smi stand-in in its image), validate: true makes up wait for it to complete;
 * - a pod of RuntimeClass nvidia with no GPU request runs through containerd's nvidia runtime: the plan's entry, whose
 *   binary is NVIDIA's real /usr/bin/nvidia-container-runtime from the toolkit 1.20.0 packages.
 * What else stands in is in test/k8s/node/start-kubelet.sh (sysctls, CNI dummy interface, /dev/kmsg).
 */
const NODE = "gpu-k8s-node";
const SSH_PORT = 2522;
const REPO_PORT = 18525;
/**
 * The node's containerd config before the plan: the fleet's kubeadm-like one (pause 3.10, CNI in /opt/cni/bin), with
 * cgroupfs for runc (see start-kubelet.sh) and the sandbox's oom_score_adj clamped: the node lacks CAP_SYS_RESOURCE.
 */
const ORIGINAL_CONTAINERD_CONFIG = KUBEADM_CONFIG.replace("SystemdCgroup = true", "SystemdCgroup = false").replace(
    '[plugins."io.containerd.grpc.v1.cri"]\n',
    '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n',
);
const PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4";
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { KubernetesGpuSupport } from "pulumi-nvidia-gpu";

// GFD is not built here (its node-feature-discovery module is refused by the Go module proxy).
const support = new KubernetesGpuSupport("gpu", {
    labelNodes: ["${NODE}"],
    devicePluginImage: "${PLUGIN_IMAGE}",
    featureDiscovery: false,
    validate: new pulumi.Config().getBoolean("validate") ?? false,
    validationImage: "mini:local",
});
export const runtimeClassName = support.runtimeClassName;
`;

describe("a kubelet on a fleet node: NVIDIA's device plugin and the validation Job meet a node (test/k8s)", function () {
    this.timeout(900_000);
    let server: ChildProcess;
    let cp: ControlPlane;
    let node: FleetNode;
    let stack: Stack;
    const kubectlJson = (args: string[]) => JSON.parse(cp.kubectl([...args, "-o", "json"])) as Record<string, any>;
    const until = (what: string, ok: () => boolean, seconds: number) => {
        for (let i = 0; i < seconds; i++) {
            if (ok()) return;
            execFileSync("sleep", ["1"]);
        }
        throw new Error(`${what} after ${seconds} s; kubelet log:\n${nodeExec(NODE, "tail -n 30 /var/log/kubelet.log")}`);
    };

    /** The OCI runtime binary containerd ran a pod's first container with (runc options: plain, or protobuf in base64). */
    const runtimeBinary = (pod: Record<string, any>) => {
        const id = String(pod.status.containerStatuses[0].containerID).replace("containerd://", "");
        const options = JSON.parse(nodeExec(NODE, `ctr -n k8s.io containers info ${id}`)).Runtime.Options ?? {};
        const text = options.BinaryName ?? Buffer.from(String(options.value ?? ""), "base64").toString("latin1");
        return /\/[\w./-]*(runc|nvidia-container-runtime)\b/.exec(text)?.[0];
    };

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        cp = await startControlPlane({ scheduler: true });
        node = startNode(NODE, "gpu-e2e-docker", SSH_PORT, "systemctl disable --now docker docker.socket >/dev/null 2>&1 || true");
        nodeExec(NODE, `cat > /etc/containerd/config.toml <<'EOF'\n${ORIGINAL_CONTAINERD_CONFIG}EOF\nsystemctl restart containerd`);
        const spec: NodeSpec = {
            runtime: "containerd",
            toolkit: { version: "1.20.0-1", repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
        };
        const planned = nodePlan(await snapshot(node.connection, watchedFiles(spec)), spec);
        const results = await applySteps(node.connection, planned.plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));

        const kit = mkdtempSync(join(tmpdir(), "k8s-node-kit-"));
        try {
            mkdirSync(join(kit, "bin"));
            mkdirSync(join(kit, "pki"));
            for (const b of ["kubelet", "loopback", "host-local", "tap"]) cpSync(kubernetesBin(b), join(kit, "bin", b), { dereference: true });
            for (const f of ["ca.crt", "admin.crt", "admin.key"]) cpSync(join(cp.dir, f), join(kit, "pki", f));
            execFileSync("sh", [join(__dirname, "node/build-images.sh"), join(kit, "images")], { stdio: ["ignore", "ignore", "inherit"] });
            cpSync(join(__dirname, "node/start-kubelet.sh"), join(kit, "start-kubelet.sh"));
            execFileSync("docker", ["cp", kit, `${NODE}:/opt/k8s-node`]);
        } finally {
            rmSync(kit, { recursive: true, force: true });
        }
        nodeExec(NODE, `sh /opt/k8s-node/start-kubelet.sh ${NODE} ${cp.server}`);
        until(
            "the node is not Ready",
            () => {
                const r = cp.tryKubectl(["get", "node", NODE, "-o", "json"]);
                return r.status === 0 && JSON.parse(r.output).status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
            },
            120,
        );
        stack = new Stack(userProject("k8s-node", PROGRAM), "test", stateDir("k8s-node"));
        Object.assign(stack.env, { KUBECONFIG: cp.kubeconfig, PATH: `${kubernetesBin("")}:${stack.env.PATH}` });
        stack.init({});
    });
    after(() => {
        if (process.env.KEEP_K8S) return;
        stack?.run(["destroy", "--yes", "--skip-preview"], true);
        stack?.remove();
        server?.kill();
        stopNode(NODE);
        cp?.stop();
    });

    it("up waits for NVIDIA's device plugin to run on the node, and with no GPU it advertises no nvidia.com/gpu", () => {
        stack.up();
        const ds = kubectlJson(["get", "daemonset", "nvidia-device-plugin", "-n", "kube-system"]);
        assert.equal(ds.status.desiredNumberScheduled, 1);
        assert.equal(ds.status.numberReady, 1);
        const pods = kubectlJson(["get", "pods", "-n", "kube-system", "-l", "app.kubernetes.io/name=nvidia-device-plugin"]).items;
        assert.equal(pods.length, 1);
        assert.equal(pods[0].spec.nodeName, NODE);
        assert.equal(pods[0].status.phase, "Running");
        const log = nodeExec(NODE, "cat /var/log/pods/kube-system_nvidia-device-plugin-*/nvidia-device-plugin/0.log");
        assert.match(log, /No devices found\. Waiting indefinitely\./);
        const allocatable = kubectlJson(["get", "node", NODE]).status.allocatable;
        assert.equal(allocatable["nvidia.com/gpu"], undefined, JSON.stringify(allocatable));
    });

    it("a pod of RuntimeClass nvidia with no GPU request runs through containerd's nvidia runtime (NVIDIA's real runtime)", () => {
        cp.kubectl(
            ["create", "-f", "-"],
            JSON.stringify({
                apiVersion: "v1",
                kind: "Pod",
                metadata: { name: "through-nvidia", namespace: "default" },
                spec: {
                    runtimeClassName: "nvidia",
                    restartPolicy: "Never",
                    automountServiceAccountToken: false,
                    containers: [{ name: "c", image: "mini:local", imagePullPolicy: "Never", command: ["/bin/busybox", "echo", "ran through nvidia"] }],
                },
            }),
        );
        until("the pod did not succeed", () => kubectlJson(["get", "pod", "through-nvidia"]).status.phase === "Succeeded", 120);
        assert.equal(runtimeBinary(kubectlJson(["get", "pod", "through-nvidia"])), "/usr/bin/nvidia-container-runtime");
        assert.match(nodeExec(NODE, "cat /var/log/pods/default_through-nvidia_*/c/0.log"), /ran through nvidia/);
    });

    it("the validation Job KubernetesGpuSupport renders is scheduled against the node and waits for a GPU: Insufficient nvidia.com/gpu", () => {
        cp.kubectl(["create", "-f", "-"], JSON.stringify(validationJobManifest("kube-system", "mini:local")));
        until(
            "no FailedScheduling event",
            () =>
                kubectlJson(["get", "events", "-n", "kube-system", "--field-selector", "reason=FailedScheduling"]).items.some((e: any) =>
                    /Insufficient nvidia\.com\/gpu/.test(e.message),
                ),
            60,
        );
        cp.kubectl(["delete", "job", "nvidia-gpu-validation", "-n", "kube-system", "--cascade=foreground"]);
    });

    it("with nvidia.com/gpu: 1 patched into the Node's status (the GPU stand-in), validate: true makes up wait for the validation Job, which completes on the node", () => {
        const gpu = [
            { op: "add", path: "/status/capacity/nvidia.com~1gpu", value: "1" },
            { op: "add", path: "/status/allocatable/nvidia.com~1gpu", value: "1" },
        ];
        cp.kubectl(["patch", "node", NODE, "--subresource=status", "--type=json", "-p", JSON.stringify(gpu)]);
        stack.setConfig("validate", "true");
        stack.up();
        const job = kubectlJson(["get", "job", "nvidia-gpu-validation", "-n", "kube-system"]);
        assert.equal(job.status.succeeded, 1, JSON.stringify(job.status));
        const pod = kubectlJson(["get", "pods", "-n", "kube-system", "-l", "job-name=nvidia-gpu-validation"]).items[0];
        assert.equal(pod.spec.nodeName, NODE);
        assert.equal(pod.spec.runtimeClassName, "nvidia");
        assert.match(nodeExec(NODE, "cat /var/log/pods/kube-system_nvidia-gpu-validation-*/*/0.log"), /nvidia-smi STAND-IN/);
        assert.equal(runtimeBinary(pod), "/usr/bin/nvidia-container-runtime");
    });

    it("destroy removes the plugin from the node and the node's label", () => {
        stack.destroy();
        until("the plugin pod is still there", () => kubectlJson(["get", "pods", "-n", "kube-system"]).items.length === 0, 120);
        assert.equal(kubectlJson(["get", "node", NODE]).metadata.labels["nvidia-gpu.pulumi.com/provisioned"], undefined);
    });
});
