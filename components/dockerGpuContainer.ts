import * as pulumi from "@pulumi/pulumi";
import { enforceImagePolicy, enforceImagePolicyOnBranch } from "../sdk/cuda/workloadPolicy";
import { CompatibilityMode } from "../sdk/cuda/imagePolicy";
import { dockerContainerStep } from "../sdk/plan/dockerContainer";
import { driverCapabilities } from "../sdk/cuda/driverCapabilities";
import { workloadPreflight } from "../sdk/host/preflight";
import { GpuConfigError } from "../sdk/errors";
import { NodeConnectionArgs } from "./connection";
import { GpuNode, commandsOf } from "./gpuNode";
import { GpuComponentOptions, planOnHost } from "./planOnHost";

export enum GpuSelection {
    /** `docker run --gpus …` (Docker ≥ 19.03). */
    Gpus = "gpus",
    /** `--runtime=nvidia` with NVIDIA_VISIBLE_DEVICES. */
    Runtime = "runtime",
    /** CDI device names (`--device nvidia.com/gpu=0`; Docker ≥ 25 with features.cdi). */
    Cdi = "cdi",
}

export interface DockerGpuContainerArgs {
    /** The node to run on: its connection and driver are used, and the container waits for it. Mutually exclusive with `connection`. */
    node?: GpuNode;
    /** How to reach a Docker GPU host not managed by a GpuNode. Mutually exclusive with `node`. */
    connection?: NodeConnectionArgs;
    /** Driver of that host, for the image check. Default: the node's driver. */
    driverVersion?: pulumi.Input<string>;
    /** Pinned image; CUDA images are checked against the driver. */
    image: pulumi.Input<string>;
    /** Container name. Default: the resource name. */
    containerName?: pulumi.Input<string>;
    /** How GPUs are selected. Default `gpus`. */
    gpuSelection?: pulumi.Input<GpuSelection>;
    /** GPU indices or UUIDs, or `all` (default). */
    devices?: pulumi.Input<pulumi.Input<string>[]>;
    /** `no`, `always`, `unless-stopped` (default) or `on-failure`. */
    restart?: pulumi.Input<string>;
    env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Command arguments after the image. */
    args?: pulumi.Input<pulumi.Input<string>[]>;
    /** Driver capabilities; default from `preset`, else compute,utility. */
    driverCapabilities?: pulumi.Input<pulumi.Input<string>[]>;
    /** `render`, `video`, `unreal-runtime` or `unreal-dev`. */
    preset?: pulumi.Input<string>;
    /** Default `exact`. */
    compatibilityMode?: pulumi.Input<CompatibilityMode>;
}

/** A container on a Docker GPU host: idempotent (same spec: nothing to do), replaced on change, removed on delete. */
export class DockerGpuContainer extends pulumi.ComponentResource {
    /** The image policy's verdict for the host's driver. */
    public readonly compatibility: pulumi.Output<string>;

    constructor(name: string, args: DockerGpuContainerArgs, opts?: GpuComponentOptions) {
        super("nvidia-gpu:index:DockerGpuContainer", name, {}, opts);
        if ((args.node === undefined) === (args.connection === undefined)) {
            throw new GpuConfigError("DockerGpuContainer", "needs exactly one of `node` or `connection`", "pass the GpuNode it runs on, or a connection");
        }
        const connection = args.node?.connection ?? args.connection!;
        const driver = args.driverVersion ?? args.node?.driverVersion;
        const branch = args.driverVersion === undefined ? args.node?.driverBranch : undefined;
        const spec = pulumi.output({
            image: args.image, containerName: args.containerName ?? name, mode: args.gpuSelection, devices: args.devices, restart: args.restart, env: args.env,
            extra: args.args, capabilities: args.driverCapabilities, preset: args.preset, driverVersion: driver, driverBranch: branch, compatibilityMode: args.compatibilityMode,
        }).apply((a) => {
            const [verdict] = a.driverVersion === undefined && a.driverBranch !== undefined
                ? enforceImagePolicyOnBranch(a.image, a.driverBranch, { mode: a.compatibilityMode })
                : enforceImagePolicy(a.image, [a.driverVersion], { mode: a.compatibilityMode });
            const step = dockerContainerStep({
                name: a.containerName, image: a.image, mode: a.mode, devices: a.devices, restart: a.restart as "always" | undefined, env: a.env,
                args: a.extra, driverCapabilities: a.capabilities, preset: a.preset,
            });
            return { verdict, step, capabilities: a.capabilities, preset: a.preset };
        });
        planOnHost(name, connection, spec, () => [], (snapshot, s) => {
            const capabilities = driverCapabilities(s.capabilities, s.preset);
            const findings = workloadPreflight(snapshot.facts, capabilities);
            for (const f of findings) void pulumi.log.warn(`${name}: ${f.message} — ${f.fix}`, this);
            return { steps: [s.step], files: [], findings };
        }, this, { ...opts, dependsOn: args.node ? commandsOf(args.node) : opts?.dependsOn });
        this.compatibility = spec.apply((s) => s.verdict.reason);
        this.registerOutputs({ compatibility: this.compatibility });
    }
}
