import { GpuConfigError } from "../errors";
import { validateChoice } from "../validate";
import { MigStrategy } from "./migStrategy";
import { migEnv, migSecurityContext, nodeDaemonSet } from "./nodeDaemonSet";
import { RestrictedOptions, configHashAnnotation, restrictedSecurityContext } from "./podSecurity";

/**
 * Kubernetes objects for GPU workloads, as plain manifests: pure functions, schema-checked in the
 * tests with kubernetes-models, and handed to @pulumi/kubernetes by the components.
 */
export const DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.20.0";
/** Nodes provisioned by this library carry this label; the device plugin and workloads select on it. */
export const GPU_NODE_LABEL = "nvidia-gpu.pulumi.com/provisioned";
export const VALIDATION_IMAGE = "nvcr.io/nvidia/cuda:13.0.2-base-ubuntu24.04";

type Manifest = Record<string, any>;

export function runtimeClassManifest(name = "nvidia", handler = "nvidia"): Manifest {
    return { apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", metadata: { name }, handler };
}

export enum SharingStrategy {
    None = "none",
    TimeSlicing = "time-slicing",
    Mps = "mps",
}

export interface SharingConfig {
    strategy: SharingStrategy;
    /** How many workloads share each GPU. */
    replicas: number;
    /** Refuse pods asking for more than one shared GPU (they would not get more compute). Default true. */
    failRequestsGreaterThanOne?: boolean;
}

/**
 * The device plugin's config file (`version: v1`, `sharing.timeSlicing` or `sharing.mps`; no sharing for
 * `none`). The values are checked here, where they become YAML: a string replicas such as
 * `"1\n  devices: [0]"` would otherwise add keys of its own to the file.
 */
export function sharingConfigText(config: SharingConfig): string {
    const strategy = validateChoice(config.strategy, Object.values(SharingStrategy), "sharing.strategy");
    if (strategy === SharingStrategy.None) return "version: v1\n";
    if (typeof config.replicas !== "number" || !Number.isInteger(config.replicas) || config.replicas < 2) {
        throw new GpuConfigError(
            "sharing.replicas",
            `${JSON.stringify(config.replicas)} is not a whole number of 2 or more`,
            "set how many workloads share one GPU, e.g. 4",
        );
    }
    if (config.failRequestsGreaterThanOne !== undefined && typeof config.failRequestsGreaterThanOne !== "boolean") {
        throw new GpuConfigError(
            "sharing.failRequestsGreaterThanOne",
            `${JSON.stringify(config.failRequestsGreaterThanOne)} is not true or false`,
            "set true or false",
        );
    }
    const key = strategy === SharingStrategy.Mps ? "mps" : "timeSlicing";
    return [
        "version: v1",
        "sharing:",
        `  ${key}:`,
        ...(config.strategy === SharingStrategy.TimeSlicing ? [`    failRequestsGreaterThanOne: ${config.failRequestsGreaterThanOne ?? true}`] : []),
        "    resources:",
        "      - name: nvidia.com/gpu",
        `        replicas: ${config.replicas}`,
        "",
    ].join("\n");
}

export function sharingConfigMap(namespace: string, config: SharingConfig): Manifest {
    return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "nvidia-device-plugin-config", namespace },
        data: { "config.yaml": sharingConfigText(config) },
    };
}

export interface DevicePluginOptions {
    namespace: string;
    image?: string;
    runtimeClassName?: string;
    nodeSelector?: Record<string, string>;
    /** Mount the sharing ConfigMap and point the plugin at it. */
    withSharingConfig?: boolean;
    /** The ConfigMap's config.yaml: its hash goes on the pod template, so a new config rolls the pods. */
    sharingConfig?: string;
    /** How MIG devices are exposed. Default `none` (the plugin's own default: no MIG environment). */
    migStrategy?: MigStrategy;
}

export function devicePluginDaemonSet(o: DevicePluginOptions): Manifest {
    const volumes: Manifest[] = [{ name: "device-plugin", hostPath: { path: "/var/lib/kubelet/device-plugins" } }];
    const mounts: Manifest[] = [{ name: "device-plugin", mountPath: "/var/lib/kubelet/device-plugins" }];
    const env: Manifest[] = [{ name: "FAIL_ON_INIT_ERROR", value: "false" }, ...migEnv(o.migStrategy)];
    if (o.withSharingConfig) {
        volumes.push({ name: "config", configMap: { name: "nvidia-device-plugin-config" } });
        mounts.push({ name: "config", mountPath: "/config", readOnly: true });
        env.push({ name: "CONFIG_FILE", value: "/config/config.yaml" });
    }
    return nodeDaemonSet({
        name: "nvidia-device-plugin",
        namespace: o.namespace,
        runtimeClassName: o.runtimeClassName,
        nodeSelector: o.nodeSelector ?? { [GPU_NODE_LABEL]: "true" },
        ...(o.withSharingConfig && o.sharingConfig !== undefined ? { podAnnotations: configHashAnnotation(o.sharingConfig) } : {}),
        containers: [
            {
                name: "nvidia-device-plugin",
                image: o.image ?? DEVICE_PLUGIN_IMAGE,
                env,
                securityContext: migSecurityContext(o.migStrategy),
                volumeMounts: mounts,
            },
        ],
        volumes,
    });
}

export enum WorkloadKind {
    Deployment = "Deployment",
    Job = "Job",
    Pod = "Pod",
}

export interface WorkloadOptions {
    kind: WorkloadKind;
    name: string;
    namespace: string;
    image: string;
    gpus: number;
    command?: string[];
    args?: string[];
    env?: Record<string, string>;
    replicas?: number;
    runtimeClassName?: string;
    nodeSelector?: Record<string, string>;
    /** Validated driver capabilities, rendered as NVIDIA_DRIVER_CAPABILITIES. */
    driverCapabilities?: string[];
    /** Job only: retries before the Job fails. Default 0. */
    backoffLimit?: number;
    /** Meet Pod Security `restricted`, running as these IDs. */
    securityContext?: RestrictedOptions;
}

/** A Deployment, Job or Pod whose container requests `nvidia.com/gpu: N` and runs with the nvidia RuntimeClass. */
export function gpuWorkloadManifest(o: WorkloadOptions): Manifest {
    const kind = validateChoice(o.kind, Object.values(WorkloadKind), "kind");
    const labels = { "app.kubernetes.io/name": o.name };
    const env = Object.entries(o.env ?? {}).map(([name, value]) => ({ name, value }));
    if (o.driverCapabilities) env.push({ name: "NVIDIA_DRIVER_CAPABILITIES", value: o.driverCapabilities.join(",") });
    const security = o.securityContext === undefined ? undefined : restrictedSecurityContext(o.securityContext);
    const pod = {
        runtimeClassName: o.runtimeClassName ?? "nvidia",
        nodeSelector: o.nodeSelector ?? { [GPU_NODE_LABEL]: "true" },
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        ...(kind === WorkloadKind.Job ? { restartPolicy: "Never" } : {}),
        ...(security ? { securityContext: security.pod } : {}),
        containers: [
            {
                name: o.name,
                image: o.image,
                ...(o.command ? { command: o.command } : {}),
                ...(o.args ? { args: o.args } : {}),
                ...(env.length ? { env } : {}),
                resources: { limits: { "nvidia.com/gpu": o.gpus } },
                ...(security ? { securityContext: security.container } : {}),
            },
        ],
    };
    if (kind === WorkloadKind.Pod) return { apiVersion: "v1", kind: "Pod", metadata: { name: o.name, namespace: o.namespace, labels }, spec: pod };
    const template = { metadata: { labels }, spec: pod };
    if (kind === WorkloadKind.Job) {
        return {
            apiVersion: "batch/v1",
            kind: "Job",
            metadata: { name: o.name, namespace: o.namespace, labels },
            spec: { backoffLimit: o.backoffLimit ?? 0, template },
        };
    }
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: o.name, namespace: o.namespace, labels },
        spec: { replicas: o.replicas ?? 1, selector: { matchLabels: labels }, template },
    };
}

/** Where the validation Job runs: the device plugin's nodes and RuntimeClass, so it never waits for a label nobody set. */
export interface ValidationPlacement {
    nodeSelector?: Record<string, string>;
    runtimeClassName?: string;
}

/** Modelled on the GPU Operator's plugin validator: `nvidia-smi` in a pinned CUDA base image, on one GPU. */
export function validationJobManifest(namespace: string, image = VALIDATION_IMAGE, nodeName?: string, placement: ValidationPlacement = {}): Manifest {
    const job = gpuWorkloadManifest({
        kind: WorkloadKind.Job,
        name: "nvidia-gpu-validation",
        namespace,
        image,
        gpus: 1,
        command: ["nvidia-smi"],
        backoffLimit: 2,
        nodeSelector: placement.nodeSelector,
        runtimeClassName: placement.runtimeClassName,
    });
    if (nodeName) job.spec.template.spec.nodeName = nodeName;
    return job;
}
