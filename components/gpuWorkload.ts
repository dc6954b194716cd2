import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { driverCapabilities } from "../sdk/cuda/driverCapabilities";
import { CompatibilityMode, parseRequireCuda } from "../sdk/cuda/imagePolicy";
import { enforceImagePolicy } from "../sdk/cuda/workloadPolicy";
import { GpuConfigError } from "../sdk/errors";
import { validate } from "../sdk/validate";
import { WorkloadKind, gpuWorkloadManifest } from "../sdk/kubernetes/manifests";
import { asArgs } from "./kubernetesGpuSupport";

/** IDs a GpuWorkload runs as; giving any of these makes its pod meet Pod Security `restricted`. */
export interface GpuWorkloadSecurityContextArgs {
    /** User ID of the container, not 0. Needed when the image's own user is root (CUDA base images are). */
    runAsUser?: pulumi.Input<number>;
    /** Group ID of the container. */
    runAsGroup?: pulumi.Input<number>;
    /** Group that owns mounted volumes. */
    fsGroup?: pulumi.Input<number>;
    /** Mount the image's root filesystem read-only. Default: writable. */
    readOnlyRootFilesystem?: pulumi.Input<boolean>;
}

export interface GpuWorkloadArgs {
    /** `Deployment` (default), `Job` or `Pod`. A Job makes `pulumi up` wait for it and fail if it fails; a Pod, for it to be ready. */
    kind?: pulumi.Input<WorkloadKind>;
    /** Pinned image. `latest` and untagged references are refused; CUDA images are checked against `nodeDriverVersions`. */
    image: pulumi.Input<string>;
    /** GPUs per pod (`nvidia.com/gpu`). Default 1. */
    gpus?: pulumi.Input<number>;
    /** Namespace. Default `default`. */
    namespace?: pulumi.Input<string>;
    /** The container's entrypoint, instead of the image's. */
    command?: pulumi.Input<pulumi.Input<string>[]>;
    /** Arguments to the entrypoint, instead of the image's. */
    args?: pulumi.Input<pulumi.Input<string>[]>;
    /** Environment variables of the container. */
    env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Deployment replicas. Default 1. */
    replicas?: pulumi.Input<number>;
    /** RuntimeClass. Default `nvidia`. */
    runtimeClassName?: pulumi.Input<string>;
    /** Nodes it may land on. Default: those labelled by this library. */
    nodeSelector?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Drivers of the nodes it may land on: GpuNode.driverVersion outputs, or the versions NvidiaDrivers will
     * install. The image's CUDA must fit every one of them, or the preview fails.
     */
    nodeDriverVersions?: pulumi.Input<pulumi.Input<string | undefined>[]>;
    /** How strictly CUDA is matched. Default `exact` (Table 3); `minor-version` is the weaker floor. */
    compatibilityMode?: pulumi.Input<CompatibilityMode>;
    /** The image ships forward-compatibility libraries (data-centre GPUs only). Default false. */
    forwardCompatible?: pulumi.Input<boolean>;
    /** The image's NVIDIA_REQUIRE_CUDA label, for images whose tag does not say their CUDA version. */
    requireCuda?: pulumi.Input<string>;
    /** Driver capabilities (compute, utility, graphics, video, display, compat32, ngx, or all). Default from `preset`, else compute,utility. */
    driverCapabilities?: pulumi.Input<pulumi.Input<string>[]>;
    /** `render`, `video`, `unreal-runtime` or `unreal-dev`: named defaults for the capabilities. */
    preset?: pulumi.Input<string>;
    /**
     * Run the pod as Pod Security `restricted` requires, for namespaces that enforce it: runAsNonRoot, seccomp
     * `RuntimeDefault`, no privilege escalation, every capability dropped, with these IDs. Default: no securityContext
     * (the image's user, the runtime's defaults), which `restricted` refuses.
     */
    securityContext?: GpuWorkloadSecurityContextArgs;
}

/** A Deployment or Job on GPU nodes, requesting `nvidia.com/gpu` with the nvidia RuntimeClass, its image checked against the nodes' drivers at preview. */
export class GpuWorkload extends pulumi.ComponentResource {
    /** One line per node: the image policy's verdict. */
    public readonly compatibility: pulumi.Output<string[]>;

    constructor(name: string, args: GpuWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("nvidia-gpu:index:GpuWorkload", name, {}, opts);
        const checked = pulumi
            .all([args.image, args.nodeDriverVersions ?? [], args.compatibilityMode, args.forwardCompatible, args.requireCuda])
            .apply(([image, drivers, mode, forwardCompatible, requireCuda]) => {
                // Each checked as what it is, by its own name, before the image policy compares them.
                drivers.forEach((d, i) => d !== undefined && validate(d, "driverVersion", `nodeDriverVersions[${i}]`));
                if (requireCuda !== undefined) parseRequireCuda(requireCuda, "requireCuda");
                return enforceImagePolicy(image, drivers, { mode, forwardCompatible, requireCuda });
            });
        const manifest = pulumi.all([args, checked]).apply(([a]) => {
            const gpus = a.gpus ?? 1;
            if (!Number.isInteger(gpus) || gpus < 1) throw new GpuConfigError("gpus", `${gpus} is not a whole number of 1 or more`, "request at least one GPU");
            return gpuWorkloadManifest({
                kind: a.kind ?? WorkloadKind.Deployment,
                name,
                namespace: a.namespace ?? "default",
                image: a.image,
                gpus,
                command: a.command,
                args: a.args,
                env: a.env,
                replicas: a.replicas,
                runtimeClassName: a.runtimeClassName,
                nodeSelector: a.nodeSelector,
                driverCapabilities: driverCapabilities(a.driverCapabilities, a.preset),
                securityContext: a.securityContext,
            });
        });
        const kind = pulumi.output(args.kind ?? WorkloadKind.Deployment);
        kind.apply((k) => {
            if (k === WorkloadKind.Job) new k8s.batch.v1.Job(name, asArgs<k8s.batch.v1.JobArgs>(manifest), { parent: this });
            else if (k === WorkloadKind.Pod) new k8s.core.v1.Pod(name, asArgs<k8s.core.v1.PodArgs>(manifest), { parent: this });
            else if (k === WorkloadKind.Deployment) new k8s.apps.v1.Deployment(name, asArgs<k8s.apps.v1.DeploymentArgs>(manifest), { parent: this });
            // Any other kind registers nothing: the manifest (and so `compatibility`) fails naming `kind`.
        });
        this.compatibility = pulumi.all([checked, manifest]).apply(([verdicts]) => verdicts.map((v) => v.reason));
        this.registerOutputs({ compatibility: this.compatibility });
    }
}
