import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { installMocks, settle } from "../helpers/pulumiMocks";
import { renderContainerdConfig } from "../../sdk/runtime/containerdConfig";

/**
 * The GPU suite's k8s phase, the half that runs here: the pod specs KubernetesGpuSupport and GpuWorkload render
 * (under Pulumi's mocks, as @pulumi/kubernetes would receive them) and the containerd config the project's
 * renderer writes for that machine, into .gpu/k8s/. The kubelet there is standalone (no API server fits the 64 MiB
 * carry), so the specs become static pods, with three changes a static pod needs, each written down in render.txt:
 * hostNetwork (no CNI there), the sharing ConfigMap as a hostPath folder (static pods cannot mount ConfigMaps),
 * and nvidia as containerd's default runtime (GpuNode `setAsDefault`) in place of `runtimeClassName`, which is dropped:
 * a standalone kubelet has no RuntimeClass manager, and v1.34.4 dereferences it anyway (a nil-pointer panic in
 * runtimeclass.(*Manager).LookupRuntimeHandler, seen on the GPU machine on 2026-12-07).
 */
const lib = () => require("../../index") as typeof import("../../index");
const CARRY = path.join(REPO_ROOT, ".gpu", "k8s");
export const PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4";
export const CHECK_IMAGE = "gpu-check:local";
const PLUGIN_CONFIG_DIR = "/etc/nvidia-device-plugin";

type Manifest = Record<string, any>;

async function rendered(build: () => void): Promise<Manifest[]> {
    const recorded = installMocks(false);
    build();
    await settle(300);
    return recorded.filter((r) => r.type.startsWith("kubernetes:")).map((r) => ({ type: r.type, name: r.name, ...r.inputs }));
}

/** A DaemonSet's or Pod's pod spec as a static pod (kubelet's manifest folder). */
function staticPod(name: string, namespace: string, spec: Manifest, annotations?: Record<string, string>): Manifest {
    const volumes = (spec.volumes ?? []).map((v: Manifest) => (v.configMap ? { name: v.name, hostPath: { path: PLUGIN_CONFIG_DIR, type: "Directory" } } : v));
    const { runtimeClassName: _dropped, ...podSpec } = spec;
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
        spec: { ...podSpec, hostNetwork: true, ...(volumes.length ? { volumes } : {}) },
    };
}

async function devicePlugin(sharing: boolean): Promise<{ pod: Manifest; config?: string }> {
    const { KubernetesGpuSupport, SharingStrategy } = lib();
    const objects = await rendered(
        () =>
            new KubernetesGpuSupport("gpu", {
                devicePluginImage: PLUGIN_IMAGE,
                featureDiscovery: false,
                ...(sharing ? { sharing: { strategy: SharingStrategy.TimeSlicing, replicas: 2 } } : {}),
            }),
    );
    const ds = objects.find((o) => o.name === "gpu-device-plugin")!;
    const pod = staticPod("nvidia-device-plugin", "kube-system", ds.spec.template.spec, ds.spec.template.metadata.annotations);
    if (sharing) {
        // One GPU for the plugin, so both replicas it advertises are that GPU's (the runtime reads the index).
        pod.spec.containers[0].env.push({ name: "NVIDIA_VISIBLE_DEVICES", value: "0" });
    }
    const config = objects.find((o) => o.type === "kubernetes:core/v1:ConfigMap")?.data?.["config.yaml"];
    return { pod, config };
}

async function cudaPod(name: string): Promise<Manifest> {
    const { GpuWorkload, WorkloadKind } = lib();
    const objects = await rendered(
        () =>
            new GpuWorkload(name, {
                kind: WorkloadKind.Pod,
                image: CHECK_IMAGE,
                requireCuda: "cuda>=13.0",
                nodeDriverVersions: ["580.159.04"],
                runtimeClassName: "nvidia",
            }),
    );
    const pod = objects.find((o) => o.type === "kubernetes:core/v1:Pod")!;
    // The check runs once; a restart would only repeat it.
    return staticPod(name, "default", { ...pod.spec, restartPolicy: "Never" });
}

/**
 * The GPU machine's own config.toml, as its operator would write it: the machine withholds CAP_SYS_RESOURCE, so runc
 * cannot lower a pod sandbox's oom_score_adj to the kubelet's -998 ("can't get final child's PID from pipe: EOF",
 * run 2 of 2026-12-07), and containerd's restrict_oom_score_adj (made for rootless hosts) keeps scores at its own.
 * It belongs in the root file, not in a drop-in of its own: run 3 put it in `99-zz-gpu-machine.toml`, which containerd
 * 1.7 read after the project's drop-in and which replaced the whole CRI section, nvidia runtime and default included,
 * so every pod ran on plain runc and got no GPU (sdk/runtime/containerdLoaded.ts now refuses exactly that).
 */
const MACHINE_CONFIG = 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n';

/**
 * containerd's files as the project's renderer writes them on that machine (its config.toml and its containerd's
 * dump), checked here with the same containerd binary before any device time is spent: what it loads from them
 * names nvidia as the default runtime and keeps the machine's setting.
 */
function containerdFiles(containerd: string): { config: string; dropIn: string; summary: string } {
    const dir = fs.mkdtempSync(path.join(REPO_ROOT, ".tmp", "gpu-containerd-"));
    try {
        fs.writeFileSync(path.join(dir, "config.toml"), MACHINE_CONFIG);
        const dump = execFileSync(containerd, ["--config", path.join(dir, "config.toml"), "config", "dump"], { encoding: "utf8" });
        const r = renderContainerdConfig(MACHINE_CONFIG, { effectiveConfig: dump, setAsDefault: true });
        fs.mkdirSync(path.join(dir, "conf.d"));
        fs.writeFileSync(path.join(dir, "config.toml"), r.topLevel.text.replace("/etc/containerd/conf.d", path.join(dir, "conf.d")));
        fs.writeFileSync(path.join(dir, "conf.d", "99-nvidia.toml"), r.dropIn.text);
        const loaded = execFileSync(containerd, ["--config", path.join(dir, "config.toml"), "config", "dump"], { encoding: "utf8" });
        for (const want of [/default_runtime_name = "nvidia"/, /runtimes\.nvidia\]/, /restrict_oom_score_adj = true/]) {
            if (!want.test(loaded)) throw new Error(`prepare-k8s: containerd would not load ${want.source} from the rendered files`);
        }
        const summary = `version ${r.version}, ${r.criPlugin}, runtime options from ${r.inheritedFrom}, restrict_oom_score_adj from the root`;
        return { config: r.topLevel.text, dropIn: r.dropIn.text, summary };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export async function writeK8sCarry(containerd: string): Promise<void> {
    fs.mkdirSync(path.join(CARRY, "pods"), { recursive: true });
    const write = (file: string, text: string) => fs.writeFileSync(path.join(CARRY, file), text);
    const json = (m: Manifest) => `${JSON.stringify(m, null, 2)}\n`;
    const plain = await devicePlugin(false);
    const shared = await devicePlugin(true);
    write("pods/device-plugin.json", json(plain.pod));
    write("pods/device-plugin-sharing.json", json(shared.pod));
    write("pods/sharing-config.yaml", shared.config!);
    write("pods/cuda.json", json(await cudaPod("cuda")));
    write("pods/cuda-a.json", json(await cudaPod("cuda-a")));
    write("pods/cuda-b.json", json(await cudaPod("cuda-b")));
    const c = containerdFiles(containerd);
    fs.mkdirSync(path.join(CARRY, "containerd"), { recursive: true });
    write("containerd/config.toml", c.config);
    write("containerd/99-nvidia.toml", c.dropIn);
    write(
        "render.txt",
        [
            `device plugin: KubernetesGpuSupport({ devicePluginImage: ${PLUGIN_IMAGE}, featureDiscovery: false }) DaemonSet pod template`,
            "  sharing: the same with sharing { time-slicing, replicas 2 }, config.yaml from its ConfigMap, plus NVIDIA_VISIBLE_DEVICES=0 (one GPU)",
            `CUDA pods: GpuWorkload({ kind: Pod, image: ${CHECK_IMAGE}, requireCuda: cuda>=13.0, nodeDriverVersions: [580.159.04] })`,
            "static-pod changes: hostNetwork true; ConfigMap volume -> hostPath /etc/nvidia-device-plugin; CUDA pods restartPolicy Never; runtimeClassName dropped (containerd's default runtime is nvidia)",
            `containerd: renderContainerdConfig(the machine's config.toml with restrict_oom_score_adj, its dump, setAsDefault: true): ${c.summary}`,
            "",
        ].join("\n"),
    );
}
