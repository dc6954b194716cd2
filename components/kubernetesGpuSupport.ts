import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
    GPU_NODE_LABEL,
    SharingStrategy,
    devicePluginDaemonSet,
    runtimeClassManifest,
    sharingConfigMap,
    sharingConfigText,
    validationJobManifest,
    VALIDATION_IMAGE,
} from "../sdk/kubernetes/manifests";
import { featureDiscoveryDaemonSet } from "../sdk/kubernetes/featureDiscovery";
import { DCGM_EXPORTER_IMAGE, dcgmExporterDaemonSet, dcgmExporterService } from "../sdk/kubernetes/dcgmExporter";
import { MigStrategy, migStrategyConflict } from "../sdk/kubernetes/migStrategy";
import { MigLayoutSpec } from "../sdk/datacentre/migLayout";
import { parseCudaImage } from "../sdk/cuda/imagePolicy";
import { GpuConfigError } from "../sdk/errors";
import { privilegedNamespacePatch, runtimeHandler } from "../sdk/kubernetes/podSecurity";
import type { MigLayoutArgs } from "./nodeArgs";

/** Sharing one GPU between workloads, through the device plugin's config. */
export interface GpuSharingArgs {
    /** `time-slicing` or `mps`. */
    strategy: pulumi.Input<SharingStrategy>;
    /** Workloads per GPU, 2 or more. */
    replicas: pulumi.Input<number>;
    /** Refuse pods asking for more than one shared GPU. Default true. */
    failRequestsGreaterThanOne?: pulumi.Input<boolean>;
}

export interface KubernetesGpuSupportArgs {
    /** Namespace of the device plugin and the validation Job. Default `kube-system`. */
    namespace?: pulumi.Input<string>;
    /**
     * The node runtime the RuntimeClass `nvidia` hands pods to (its `handler`): GpuNode's `runtimeName`, the name of
     * containerd's or CRI-O's runtime entry. Default `nvidia`. A lower-case DNS label; other names are refused.
     */
    runtimeName?: pulumi.Input<string>;
    /**
     * Label `namespace` `pod-security.kubernetes.io/enforce: privileged` (and audit, warn) with a server-side apply
     * patch, which destroy removes: the device plugin mounts hostPath and, under MIG, GFD and the DCGM exporter add
     * SYS_ADMIN, which a namespace enforcing `baseline` or `restricted` refuses. Default true; set false where the
     * cluster's own policy labels (or exempts) that namespace.
     */
    privilegedNamespace?: boolean;
    /** Device plugin image, pinned. Default `nvcr.io/nvidia/k8s-device-plugin:v0.20.0`. */
    devicePluginImage?: pulumi.Input<string>;
    /** Nodes the plugin runs on. Default: those labelled `nvidia-gpu.pulumi.com/provisioned=true`. */
    nodeSelector?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Kubernetes node names to give that label (server-side apply patches). */
    labelNodes?: pulumi.Input<pulumi.Input<string>[]>;
    /** Optional GPU sharing. */
    sharing?: GpuSharingArgs;
    /** Run a Job of `nvidia-smi` in a pinned CUDA base image; `pulumi up` fails if it fails. Default false. */
    validate?: pulumi.Input<boolean>;
    /** Image of the validation Job. Default `nvcr.io/nvidia/cuda:13.0.2-base-ubuntu24.04`. */
    validationImage?: pulumi.Input<string>;
    /** Also install the GPU Operator (Helm), for clusters that outgrow SSH provisioning. */
    gpuOperator?: GpuOperatorArgs;
    /**
     * Run NVIDIA's GPU Feature Discovery (from the device plugin's image) on the GPU nodes. It writes
     * `nvidia.com/gpu.product`, `gpu.count`, `gpu.memory`, `mig.strategy`, … to Node Feature Discovery's
     * `features.d`; NFD's worker (installed separately, or by the GPU Operator) turns them into node labels.
     * Default true, as in the GPU Operator (`gfd.enabled: true`).
     */
    featureDiscovery?: boolean;
    /**
     * Run NVIDIA's DCGM exporter on the GPU nodes: a DaemonSet and a Service `dcgm-exporter` with Prometheus
     * metrics on port 9400, annotated `prometheus.io/scrape`. No ServiceMonitor (a Prometheus Operator CRD).
     * Default false, unlike the GPU Operator: it needs a Prometheus to be of use, and it holds the GPUs, so a
     * GpuNode `migLayout` change fails while it runs on that node.
     */
    dcgmExporter?: boolean;
    /** Image of the DCGM exporter. Default `nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless`. */
    dcgmExporterImage?: pulumi.Input<string>;
    /**
     * How the device plugin and GPU Feature Discovery expose MIG devices (NVIDIA's `MIG_STRATEGY`): `none`
     * (default, as the device plugin's own default), `single` (each instance is an `nvidia.com/gpu`; every GPU of
     * a node must use one profile) or `mixed` (`nvidia.com/mig-<profile>` resources). Checked against `migLayouts`. Under `mixed` a
     * MIG-enabled GPU offers no `nvidia.com/gpu`, which the validation Job requests.
     */
    migStrategy?: pulumi.Input<MigStrategy>;
    /**
     * The MIG layouts of the cluster's GPU nodes: the `migLayout` given to each GpuNode, one entry per node.
     * `migStrategy` is checked against them at preview: `none` refuses a layout that enables MIG, `single` one
     * whose node mixes profiles, or MIG on and off, or MIG without instances; `mixed` accepts any. Default: none.
     */
    migLayouts?: pulumi.Input<pulumi.Input<MigLayoutArgs>[]>;
}

/** NVIDIA's GPU Operator, installed with Helm beside the device plugin. */
export interface GpuOperatorArgs {
    /** Chart version, pinned. */
    version: pulumi.Input<string>;
    /** Let the operator install drivers and the toolkit. Default false: this library's components own them. */
    manageDriverAndToolkit?: pulumi.Input<boolean>;
}

/**
 * The cluster side of GPU support: RuntimeClass `nvidia`, the NVIDIA device plugin, GPU Feature Discovery, a MIG
 * strategy checked against the nodes' MIG layouts, optional sharing, DCGM exporter, validation and GPU Operator.
 */
export class KubernetesGpuSupport extends pulumi.ComponentResource {
    /** The RuntimeClass pods name to run with the NVIDIA runtime (`nvidia`). */
    public readonly runtimeClassName: pulumi.Output<string>;
    /** The MIG strategy the device plugin and GFD run with, once checked against `migLayouts`. */
    public readonly migStrategy: pulumi.Output<MigStrategy>;

    constructor(name: string, args: KubernetesGpuSupportArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("nvidia-gpu:index:KubernetesGpuSupport", name, {}, opts);
        const namespace = args.namespace ?? "kube-system";
        const parent = { parent: this };
        const handler = pulumi.output(args.runtimeName ?? "nvidia").apply((n) => runtimeHandler(n));
        const runtimeClass = new k8s.node.v1.RuntimeClass(
            `${name}-nvidia`,
            asArgs<k8s.node.v1.RuntimeClassArgs>(handler.apply((h) => runtimeClassManifest("nvidia", h))),
            // The handler is immutable and the provider forces no replace for it; the name stays nvidia, so delete first.
            { parent: this, replaceOnChanges: ["handler"], deleteBeforeReplace: true },
        );
        // Operands are admitted only once their namespace allows hostPath and SYS_ADMIN.
        const podSecurity =
            args.privilegedNamespace === false
                ? []
                : [
                      new k8s.core.v1.NamespacePatch(
                          `${name}-pod-security`,
                          asArgs<k8s.core.v1.NamespacePatchArgs>(pulumi.output(namespace).apply(privilegedNamespacePatch)),
                          parent,
                      ),
                  ];
        const labels = pulumi
            .output(args.labelNodes ?? [])
            .apply((nodes) =>
                nodes.map(
                    (node) => new k8s.core.v1.NodePatch(`${name}-label-${node}`, { metadata: { name: node, labels: { [GPU_NODE_LABEL]: "true" } } }, parent),
                ),
            );
        const sharing =
            args.sharing === undefined
                ? undefined
                : pulumi.output(args.sharing).apply((s) => {
                      if (s.strategy !== SharingStrategy.None && !(Number.isInteger(s.replicas) && s.replicas >= 2)) {
                          throw new GpuConfigError(
                              "sharing.replicas",
                              `${s.replicas} is not a whole number of 2 or more`,
                              "set how many workloads share one GPU, e.g. 4",
                          );
                      }
                      return s;
                  });
        const configMap =
            sharing === undefined
                ? undefined
                : new k8s.core.v1.ConfigMap(
                      `${name}-sharing`,
                      asArgs<k8s.core.v1.ConfigMapArgs>(pulumi.all([namespace, sharing]).apply(([ns, s]) => sharingConfigMap(ns, s))),
                      parent,
                  );
        const migStrategy = pulumi.all([args.migStrategy ?? MigStrategy.None, pulumi.output(args.migLayouts ?? [])]).apply(([strategy, layouts]) => {
            const conflict = migStrategyConflict(strategy, layouts as MigLayoutSpec[]);
            if (conflict) throw conflict;
            return strategy;
        });
        const daemonSet = new k8s.apps.v1.DaemonSet(
            `${name}-device-plugin`,
            asArgs<k8s.apps.v1.DaemonSetArgs>(
                pulumi.all([namespace, args.devicePluginImage, args.nodeSelector, migStrategy, sharing]).apply(([ns, image, nodeSelector, mig, s]) => {
                    if (image !== undefined) parseCudaImage(image, "devicePluginImage"); // refuses latest and untagged
                    const sharingConfig = s === undefined ? undefined : sharingConfigText(s);
                    return devicePluginDaemonSet({
                        namespace: ns,
                        image,
                        nodeSelector,
                        withSharingConfig: configMap !== undefined,
                        sharingConfig,
                        migStrategy: mig,
                    });
                }),
            ),
            { parent: this, dependsOn: [runtimeClass, ...podSecurity, ...(configMap ? [configMap] : [])] },
        );
        const featureDiscovery = args.featureDiscovery ?? true;
        if (featureDiscovery) {
            new k8s.apps.v1.DaemonSet(
                `${name}-gpu-feature-discovery`,
                asArgs<k8s.apps.v1.DaemonSetArgs>(
                    pulumi.all([namespace, args.devicePluginImage, args.nodeSelector, migStrategy]).apply(([ns, image, nodeSelector, mig]) => {
                        if (image !== undefined) parseCudaImage(image, "devicePluginImage");
                        return featureDiscoveryDaemonSet({ namespace: ns, image, nodeSelector, migStrategy: mig });
                    }),
                ),
                { parent: this, dependsOn: [runtimeClass, ...podSecurity] },
            );
        }
        if (args.dcgmExporter) {
            const exporter = new k8s.apps.v1.DaemonSet(
                `${name}-dcgm-exporter`,
                asArgs<k8s.apps.v1.DaemonSetArgs>(
                    pulumi.all([namespace, args.dcgmExporterImage ?? DCGM_EXPORTER_IMAGE, args.nodeSelector]).apply(([ns, image, nodeSelector]) => {
                        parseCudaImage(image, "dcgmExporterImage");
                        return dcgmExporterDaemonSet({ namespace: ns, image, nodeSelector });
                    }),
                ),
                { parent: this, dependsOn: [runtimeClass, ...podSecurity] },
            );
            new k8s.core.v1.Service(`${name}-dcgm-exporter`, asArgs<k8s.core.v1.ServiceArgs>(pulumi.output(namespace).apply((ns) => dcgmExporterService(ns))), {
                parent: this,
                dependsOn: [exporter],
            });
        }
        pulumi.output(args.validate).apply((validate) => {
            if (!validate) return;
            // The provider waits for the Job to complete and fails the update if it fails.
            new k8s.batch.v1.Job(
                `${name}-validation`,
                asArgs<k8s.batch.v1.JobArgs>(
                    pulumi.all([namespace, args.validationImage ?? VALIDATION_IMAGE, args.nodeSelector]).apply(([ns, image, nodeSelector]) => {
                        parseCudaImage(image, "validationImage");
                        return validationJobManifest(ns, image, undefined, { nodeSelector });
                    }),
                ),
                { parent: this, dependsOn: labels.apply((patches) => [daemonSet, ...patches]) },
            );
        });
        if (args.gpuOperator) {
            const own = pulumi.output(args.gpuOperator.manageDriverAndToolkit ?? false);
            new k8s.helm.v3.Release(
                `${name}-gpu-operator`,
                {
                    chart: "gpu-operator",
                    version: args.gpuOperator.version,
                    repositoryOpts: { repo: "https://helm.ngc.nvidia.com/nvidia" },
                    namespace: "gpu-operator",
                    createNamespace: true,
                    values: pulumi.all([own, migStrategy]).apply(([manage, mig]) => ({
                        driver: { enabled: manage },
                        toolkit: { enabled: manage },
                        devicePlugin: { enabled: false },
                        // This component runs GFD and the exporter when asked; the operator's would be second copies.
                        ...(featureDiscovery ? { gfd: { enabled: false } } : {}),
                        ...(args.dcgmExporter ? { dcgmExporter: { enabled: false } } : {}),
                        ...(mig === MigStrategy.None ? {} : { mig: { strategy: mig } }),
                    })),
                },
                parent,
            );
        }
        this.runtimeClassName = pulumi.all([handler, runtimeClass.metadata.name]).apply(([, n]) => n);
        this.migStrategy = migStrategy;
        this.registerOutputs({ runtimeClassName: this.runtimeClassName, migStrategy: this.migStrategy });
    }
}

/**
 * A manifest computed as one Output, passed as resource args: the Kubernetes resources read its fields
 * through Output property lifting (`args.spec`), so every field stays an input of the resource.
 */
export function asArgs<T>(manifest: pulumi.Output<Record<string, unknown>>): T {
    return manifest as unknown as T;
}
