import { MigStrategy } from "./migStrategy";

type Manifest = Record<string, any>;

/** What one GPU-node DaemonSet (device plugin, GFD, DCGM exporter) is made of. */
export interface NodeDaemonSetParts {
    /** Object name and `app.kubernetes.io/name`. */
    name: string;
    namespace: string;
    nodeSelector: Record<string, string>;
    runtimeClassName?: string;
    containers: Manifest[];
    volumes: Manifest[];
    /** More pod spec fields, e.g. `automountServiceAccountToken`. */
    pod?: Manifest;
    /** Pod template annotations, e.g. the hash of a mounted config (a change rolls the pods). */
    podAnnotations?: Record<string, string>;
}

/**
 * A DaemonSet on the GPU nodes, shaped like the GPU Operator's operands: the nvidia RuntimeClass (so the
 * container sees the GPUs although nvidia is not the default runtime), `system-node-critical`, the
 * `nvidia.com/gpu` NoSchedule toleration, and rolling updates one node at a time.
 */
export function nodeDaemonSet(p: NodeDaemonSetParts): Manifest {
    const labels = { "app.kubernetes.io/name": p.name };
    return {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name: p.name, namespace: p.namespace, labels },
        spec: {
            selector: { matchLabels: labels },
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
            template: {
                metadata: { labels, ...(p.podAnnotations ? { annotations: p.podAnnotations } : {}) },
                spec: {
                    runtimeClassName: p.runtimeClassName ?? "nvidia",
                    priorityClassName: "system-node-critical",
                    nodeSelector: p.nodeSelector,
                    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
                    ...(p.pod ?? {}),
                    containers: p.containers,
                    volumes: p.volumes,
                },
            },
        },
    };
}

/**
 * The environment a MIG strategy gives the device plugin and GFD, as NVIDIA's Helm chart sets it: `MIG_STRATEGY`
 * and, for single or mixed, `NVIDIA_MIG_MONITOR_DEVICES=all` (the runtime then mounts the MIG monitor
 * capability). `none`, the plugin's own default, adds nothing, so a plugin without MIG keeps its manifest.
 */
export function migEnv(strategy: MigStrategy | undefined): Manifest[] {
    if (strategy === undefined || strategy === MigStrategy.None) return [];
    return [
        { name: "MIG_STRATEGY", value: strategy },
        { name: "NVIDIA_MIG_MONITOR_DEVICES", value: "all" },
    ];
}

/** Least privilege, except that reading MIG devices through the monitor capability needs CAP_SYS_ADMIN (as NVIDIA's chart grants it). */
export function migSecurityContext(strategy: MigStrategy | undefined): Manifest {
    if (strategy === undefined || strategy === MigStrategy.None) return { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
    return { capabilities: { add: ["SYS_ADMIN"] } };
}
