import { installMocks, settle } from "../helpers/pulumiMocks";

// Every option set of KubernetesGpuSupport and GpuWorkload the apiserver check sends, rendered by the components
// themselves under Pulumi's mocks (the objects @pulumi/kubernetes would be handed).
const lib = () => require("../../index") as typeof import("../../index");

export const STAND_IN_NODE = "gpu-node-1";
export const CUDA_IMAGE = "nvidia/cuda:13.0.2-base-ubuntu24.04";

export interface RenderedObject {
    /** The resource's Pulumi name. */
    name: string;
    /** A patch (NodePatch, NamespacePatch) applies to an object that exists. */
    patch: boolean;
    manifest: Record<string, any>;
}

/** apiVersion and kind of a `kubernetes:<group>/<version>:<Kind>` token. */
function typeOf(token: string): { apiVersion: string; kind: string; patch: boolean } {
    const [, groupVersion, kindName] = token.split(":");
    const patch = kindName.endsWith("Patch");
    return { apiVersion: groupVersion.replace(/^core\//, ""), kind: patch ? kindName.slice(0, -"Patch".length) : kindName, patch };
}

export interface OptionSet {
    name: string;
    build(): void;
}

export const OPTION_SETS: OptionSet[] = [
    { name: "KubernetesGpuSupport defaults", build: () => new (lib().KubernetesGpuSupport)("gpu", {}) },
    {
        name: "time-slicing, labelNodes, validate",
        build: () => {
            const { KubernetesGpuSupport, SharingStrategy } = lib();
            new KubernetesGpuSupport("gpu", { sharing: { strategy: SharingStrategy.TimeSlicing, replicas: 4 }, labelNodes: [STAND_IN_NODE], validate: true });
        },
    },
    {
        name: "MPS, failRequestsGreaterThanOne false",
        build: () => {
            const { KubernetesGpuSupport, SharingStrategy } = lib();
            new KubernetesGpuSupport("gpu", { sharing: { strategy: SharingStrategy.Mps, replicas: 2, failRequestsGreaterThanOne: false } });
        },
    },
    {
        name: "MIG single with layouts, DCGM exporter",
        build: () => {
            const { KubernetesGpuSupport, MigStrategy } = lib();
            new KubernetesGpuSupport("gpu", {
                migStrategy: MigStrategy.Single,
                migLayouts: [{ devices: [{ profiles: { "1g.18gb": 7 } }] }],
                dcgmExporter: true,
            });
        },
    },
    {
        name: "MIG mixed, custom namespace and nodeSelector, validate",
        build: () => {
            const { KubernetesGpuSupport, MigStrategy } = lib();
            new KubernetesGpuSupport("gpu", { namespace: "gpu-system", migStrategy: MigStrategy.Mixed, nodeSelector: { pool: "gpu" }, validate: true });
        },
    },
    {
        name: "runtimeName nvidia-cdi, no GFD, no namespace label, pinned images",
        build: () =>
            new (lib().KubernetesGpuSupport)("gpu", {
                runtimeName: "nvidia-cdi",
                featureDiscovery: false,
                privilegedNamespace: false,
                devicePluginImage: "nvcr.io/nvidia/k8s-device-plugin:v0.17.4",
                validate: true,
                validationImage: CUDA_IMAGE,
            }),
    },
    {
        name: "GpuWorkload Deployment, 2 GPUs, env, capabilities",
        build: () =>
            new (lib().GpuWorkload)("infer", { image: CUDA_IMAGE, gpus: 2, replicas: 3, env: { MODEL: "x" }, preset: "video", args: ["sleep", "infinity"] }),
    },
    {
        name: "GpuWorkload Job with command",
        build: () => {
            const { GpuWorkload, WorkloadKind } = lib();
            new GpuWorkload("train", { kind: WorkloadKind.Job, image: CUDA_IMAGE, command: ["nvidia-smi"], nodeSelector: { pool: "gpu" } });
        },
    },
    {
        name: "GpuWorkload Pod",
        build: () => {
            const { GpuWorkload, WorkloadKind } = lib();
            new GpuWorkload("smi", { kind: WorkloadKind.Pod, image: CUDA_IMAGE, command: ["nvidia-smi"], runtimeClassName: "nvidia" });
        },
    },
    {
        name: "GpuWorkload restricted securityContext",
        build: () =>
            new (lib().GpuWorkload)("locked", {
                image: CUDA_IMAGE,
                namespace: "restricted",
                securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, readOnlyRootFilesystem: true },
            }),
    },
];

/** The Kubernetes objects one option set registers (the Helm Release of gpuOperator needs a chart repository: not here). */
export async function render(set: OptionSet): Promise<RenderedObject[]> {
    const recorded = installMocks(false);
    set.build();
    await settle(300);
    return recorded
        .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm"))
        .map((r) => {
            const t = typeOf(r.type);
            return { name: r.name, patch: t.patch, manifest: { apiVersion: t.apiVersion, kind: t.kind, ...r.inputs } };
        });
}
