import { DEVICE_PLUGIN_IMAGE, GPU_NODE_LABEL } from "./manifests";
import { MigStrategy } from "./migStrategy";
import { migEnv, migSecurityContext, nodeDaemonSet } from "./nodeDaemonSet";

type Manifest = Record<string, any>;

/** Where GFD writes its labels for Node Feature Discovery's `local` source to publish. */
export const NFD_FEATURES_DIR = "/etc/kubernetes/node-feature-discovery/features.d";

export interface FeatureDiscoveryOptions {
    namespace: string;
    /** GFD ships in the device plugin's image (since v0.15); default that image, so the two stay in step. */
    image?: string;
    runtimeClassName?: string;
    nodeSelector?: Record<string, string>;
    /** The device plugin's MIG strategy: GFD labels `nvidia.com/mig.strategy` and the MIG products with it. */
    migStrategy?: MigStrategy;
}

/**
 * NVIDIA's GPU Feature Discovery as a DaemonSet: `gpu-feature-discovery` from the device plugin image writes
 * `nvidia.com/gpu.product`, `gpu.count`, `gpu.memory`, `mig.strategy`, … every 60 s to a file in NFD's
 * `features.d`, which Node Feature Discovery's worker turns into node labels. `GFD_USE_NODE_FEATURE_API=false`
 * keeps it on that file (0.19 made NodeFeature objects its default, which need NFD's CRD and RBAC), so this
 * DaemonSet needs no service account; without NFD on the nodes the file is written and no label appears.
 */
export function featureDiscoveryDaemonSet(o: FeatureDiscoveryOptions): Manifest {
    return nodeDaemonSet({
        name: "gpu-feature-discovery",
        namespace: o.namespace,
        runtimeClassName: o.runtimeClassName,
        nodeSelector: o.nodeSelector ?? { [GPU_NODE_LABEL]: "true" },
        containers: [
            {
                name: "gpu-feature-discovery",
                image: o.image ?? DEVICE_PLUGIN_IMAGE,
                command: ["gpu-feature-discovery"],
                env: [{ name: "GFD_USE_NODE_FEATURE_API", value: "false" }, ...migEnv(o.migStrategy)],
                securityContext: migSecurityContext(o.migStrategy),
                volumeMounts: [
                    { name: "output-dir", mountPath: NFD_FEATURES_DIR },
                    // The machine type label reads /sys/class/dmi/id/product_name.
                    { name: "host-sys", mountPath: "/sys", readOnly: true },
                ],
            },
        ],
        volumes: [
            { name: "output-dir", hostPath: { path: NFD_FEATURES_DIR, type: "DirectoryOrCreate" } },
            { name: "host-sys", hostPath: { path: "/sys", type: "Directory" } },
        ],
    });
}
