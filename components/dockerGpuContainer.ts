import * as pulumi from "@pulumi/pulumi";
import { enforceImagePolicy, enforceImagePolicyOnBranch } from "../sdk/cuda/workloadPolicy";
import { CompatibilityMode } from "../sdk/cuda/imagePolicy";
import { dockerContainerStep } from "../sdk/plan/dockerContainer";
import { driverCapabilities } from "../sdk/cuda/driverCapabilities";
import { workloadPreflight } from "../sdk/host/preflight";
import { GpuConfigError } from "../sdk/errors";
import { validate } from "../sdk/validate";
import { NodeConnectionArgs } from "./connection";
import { commandsOf, nodeOfTarget } from "./gpuNode";
import { GpuComponentOptions, planOnHost } from "./planOnHost";

/** How a container is given its GPUs. */
export enum GpuSelection {
    /** `docker run --gpus …` (Docker ≥ 19.03). */
    Gpus = "gpus",
    /** `--runtime=nvidia` with NVIDIA_VISIBLE_DEVICES. */
    Runtime = "runtime",
    /** CDI device names (`--device nvidia.com/gpu=0`; Docker ≥ 25 with features.cdi). */
    Cdi = "cdi",
}

export interface DockerGpuContainerArgs {
    /**
     * How to reach the Docker GPU host. For a `GpuNode` of the same TypeScript program, spread
     * `node.dockerTarget()` into the args instead: it gives this, the node's driver, and the wait for the node.
     */
    connection: NodeConnectionArgs;
    /**
     * The host's driver version (e.g. `580.95.05`, or a GpuNode's `driverVersion` output), for the image check.
     * Default: none, only the tag is checked, unless `driverBranch` is set.
     */
    driverVersion?: pulumi.Input<string | undefined>;
    /** The host's driver branch (e.g. `580`, a GpuNode's `driverBranch` output), used when the exact version is not known yet. */
    driverBranch?: pulumi.Input<string | undefined>;
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
    /** Environment variables of the container (`docker run -e`). */
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
        if (args.connection === undefined) {
            throw new GpuConfigError("connection", "is missing", "pass the host's connection, or spread a GpuNode's dockerTarget() into the args");
        }
        const connection = args.connection;
        // A connection from node.dockerTarget(): the container waits for that node's last step (bug 7).
        const node = nodeOfTarget(connection);
        const spec = pulumi
            .output({
                image: args.image,
                containerName: args.containerName,
                mode: args.gpuSelection,
                devices: args.devices,
                restart: args.restart,
                env: args.env,
                extra: args.args,
                capabilities: args.driverCapabilities,
                preset: args.preset,
                driverVersion: args.driverVersion,
                driverBranch: args.driverBranch,
                compatibilityMode: args.compatibilityMode,
            })
            .apply((a) => {
                // Checked as what they are before the image policy compares them, so a bad value is refused by its own name.
                if (a.driverVersion !== undefined) validate(a.driverVersion, "driverVersion", "driverVersion");
                if (a.driverBranch !== undefined) validate(a.driverBranch, "driverBranch", "driverBranch");
                // The exact version when known; the branch only without it.
                const [verdict] =
                    a.driverVersion === undefined && a.driverBranch !== undefined
                        ? enforceImagePolicyOnBranch(a.image, a.driverBranch, { mode: a.compatibilityMode })
                        : enforceImagePolicy(a.image, [a.driverVersion], { mode: a.compatibilityMode });
                const step = dockerContainerStep(
                    {
                        name: a.containerName ?? name,
                        image: a.image,
                        mode: a.mode,
                        devices: a.devices,
                        restart: a.restart as "always" | undefined,
                        env: a.env,
                        args: a.extra,
                        driverCapabilities: a.capabilities,
                        preset: a.preset,
                    },
                    // Refusals name the args as the user wrote them.
                    {
                        name: a.containerName === undefined ? "containerName (the resource name by default)" : "containerName",
                        mode: "gpuSelection",
                        args: "args",
                    },
                );
                return { verdict, step, capabilities: a.capabilities, preset: a.preset };
            });
        planOnHost(
            name,
            connection,
            spec,
            () => [],
            (snapshot, s) => {
                const capabilities = driverCapabilities(s.capabilities, s.preset);
                const findings = workloadPreflight(snapshot.facts, capabilities);
                for (const f of findings) void pulumi.log.warn(`${name}: ${f.message} — ${f.fix}`, this);
                return { steps: [s.step], files: [], findings };
            },
            this,
            { ...opts, dependsOn: node ? waitFor(commandsOf(node), opts?.dependsOn) : opts?.dependsOn },
        );
        this.compatibility = spec.apply((s) => s.verdict.reason);
        this.registerOutputs({ compatibility: this.compatibility });
    }
}

/** The node's commands and whatever else the caller's `dependsOn` names, as one list. */
function waitFor(
    commands: pulumi.Output<pulumi.Resource[]>,
    dependsOn: pulumi.ComponentResourceOptions["dependsOn"],
): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
    if (dependsOn === undefined) return commands;
    return pulumi
        .all([commands, pulumi.output(dependsOn as pulumi.Input<pulumi.Input<pulumi.Resource>[]> | pulumi.Input<pulumi.Resource>)])
        .apply(([c, d]) => [...c, ...(Array.isArray(d) ? d : [d])] as pulumi.Resource[]);
}
