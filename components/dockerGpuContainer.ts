import * as pulumi from "@pulumi/pulumi";
import { enforceImagePolicy, enforceImagePolicyOnBranch } from "../sdk/cuda/workloadPolicy";
import { CompatibilityMode } from "../sdk/cuda/imagePolicy";
import { dockerContainerPlan } from "../sdk/workloads/dockerContainer";
import { DEFAULT_CAPABILITIES } from "../sdk/cuda/driverCapabilities";
import { DockerRunOptions } from "../sdk/workloads/dockerRunOptions";
import { secretEnvPreamble } from "../sdk/workloads/secretEnv";
import { workloadPreflight } from "../sdk/workloads/workloadPreflight";
import { PODMAN_CDI_SPECS, podmanWorkloadFindings } from "../sdk/runtime/podmanPreflight";
import { PODMAN_RESTART_LINK, PODMAN_RESTART_MASK, podmanRestartFindings } from "../sdk/workloads/podmanRestart";
import { GpuConfigError } from "../sdk/errors";
import { validate } from "../sdk/validate";
import { NodeConnectionArgs } from "./connection";
import { nodeOfTarget } from "./dockerTarget";
import { commandsOf } from "./planOnHost";
import { GpuComponentOptions, planOnHost } from "./planOnHost";

/** How a container is given its GPUs. */
export enum GpuSelection {
    /** `docker run --gpus …` (Docker ≥ 19.03). */
    Gpus = "gpus",
    /** `--runtime=nvidia` with NVIDIA_VISIBLE_DEVICES. */
    Runtime = "runtime",
    /** CDI device names (`--device nvidia.com/gpu=0`; Docker ≥ 25 with features.cdi). */
    Cdi = "cdi",
    /** No GPU: a companion service on the same host (a signalling or TURN server), run and replaced the same way. */
    None = "none",
}

/** The container engine on the host. */
export enum ContainerEngine {
    /** Docker's daemon (rootful, or a rootless user's with `rootlessUser`). */
    Docker = "docker",
    /** Podman: GPUs only as CDI devices (`--device nvidia.com/gpu=…`) from the CDI spec a `cdi` GpuNode writes. */
    Podman = "podman",
}

// The run options' types live here: Pulumi's schema analyzer reads type docs only from files it visits before the last component.
/** A port's protocol (`docker run --publish …/tcp`). */
export enum PortProtocol {
    Tcp = "tcp",
    Udp = "udp",
    Sctp = "sctp",
}

/** One published port, named as the Pulumi Docker provider's `ContainerPort` (`internal`, `external`, `ip`, `protocol`). */
export interface DockerPortArgs {
    /** The container port (1–65535). */
    internal: pulumi.Input<number>;
    /** The host port. Default: the same as `internal`. */
    external?: pulumi.Input<number>;
    /** The host address to bind, e.g. `127.0.0.1`. Default: every address of the host. */
    ip?: pulumi.Input<string>;
    /** Default `tcp`. */
    protocol?: pulumi.Input<PortProtocol>;
    /**
     * Publishes this many consecutive ports from `internal` and from `external` (`49152-49251:49152-49251`), e.g.
     * WebRTC's UDP range. Default 1. Docker starts one proxy per port unless the daemon runs `userland-proxy: false`.
     */
    count?: pulumi.Input<number>;
}

/**
 * A bind mount or a volume, named as the Pulumi Docker provider's `ContainerVolume`. Rendered as `--mount`, which refuses a
 * missing host path instead of creating an empty root-owned folder as `-v` does.
 */
export interface DockerVolumeArgs {
    /** Absolute path in the container. */
    containerPath: pulumi.Input<string>;
    /** Absolute host path to bind-mount; it must exist. Excludes `volumeName`. */
    hostPath?: pulumi.Input<string>;
    /** A named Docker volume, created when missing. Excludes `hostPath`. Neither: an anonymous volume. */
    volumeName?: pulumi.Input<string>;
    /** Mount read-only. Default false. */
    readOnly?: pulumi.Input<boolean>;
}

/** One `--ulimit`, named as the Pulumi Docker provider's `ContainerUlimit`. */
export interface DockerUlimitArgs {
    /** `memlock`, `stack`, `nofile`, `nproc`, `core`, … */
    name: pulumi.Input<string>;
    /** Soft limit; -1 for unlimited (NGC: `memlock` -1). */
    soft: pulumi.Input<number>;
    /** Hard limit; -1 for unlimited. */
    hard: pulumi.Input<number>;
}

/** A health check, named as the Pulumi Docker provider's `ContainerHealthcheck` and compose's `healthcheck`. */
export interface DockerHealthcheckArgs {
    /**
     * `["CMD", "curl", "-f", "http://localhost/"]` (quoted into one shell command, so the image needs /bin/sh),
     * `["CMD-SHELL", "curl -f http://localhost/ || exit 1"]`, or `["NONE"]` to turn off the image's own check.
     */
    tests: pulumi.Input<pulumi.Input<string>[]>;
    /** Time between checks, a Go duration (`30s`). Default Docker's 30s. */
    interval?: pulumi.Input<string>;
    /** How long one check may take (`30s`). Default Docker's 30s. */
    timeout?: pulumi.Input<string>;
    /** Grace period after start (`1m`). Default 0s. */
    startPeriod?: pulumi.Input<string>;
    /** Failures in a row before `unhealthy`. Default 3. */
    retries?: pulumi.Input<number>;
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
    /** Environment variables of the container (`docker run -e`): in the script and state in clear; secrets go in `secretEnv`. */
    env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Environment variables whose values are secrets (API tokens, passwords): they travel on the command's secret
     * stdin into a 0600 env-file (`--env-file`) that the step removes, so no script, argument, log line, output or
     * clear-text state holds them. A changed value replaces the container. One-line values only.
     */
    secretEnv?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Command arguments after the image. */
    args?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Driver capabilities (`compute`, `utility`, `graphics`, `video`, `display`, `compat32`, `ngx`, or `all`). Default:
     * from `preset`, else none is sent and the image's own NVIDIA_DRIVER_CAPABILITIES applies (compute,utility when
     * the image sets none). In `gpus` mode, `all` and `ngx` go as NVIDIA_DRIVER_CAPABILITIES: Docker's `--gpus`
     * knows only the first six.
     */
    driverCapabilities?: pulumi.Input<pulumi.Input<string>[]>;
    /** `render`, `video`, `opencl`, `unreal-runtime` or `unreal-dev`; `driverCapabilities` overrides it. Default none. */
    preset?: pulumi.Input<string>;
    /** Published ports (`--publish`). Default none. */
    ports?: pulumi.Input<pulumi.Input<DockerPortArgs>[]>;
    /** Bind mounts and volumes (`--mount`). Default none. */
    volumes?: pulumi.Input<pulumi.Input<DockerVolumeArgs>[]>;
    /** tmpfs mounts: container path → options (`size=1g,mode=1777`, or empty). Default none. */
    tmpfs?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** `bridge` (Docker's default), `host`, `none`, or a network's name (created beforehand). */
    networkMode?: pulumi.Input<string>;
    /** `--ipc`: `private`, `shareable`, `host` (NGC containers ask for it) or `container:<name>`. Default Docker's. */
    ipcMode?: pulumi.Input<string>;
    /** /dev/shm size in MiB (`--shm-size`). Default Docker's 64 MiB, which PyTorch's DataLoader workers outgrow. */
    shmSize?: pulumi.Input<number>;
    /** `--ulimit`s; NGC asks for memlock -1 and stack 67108864. Default Docker's. */
    ulimits?: pulumi.Input<pulumi.Input<DockerUlimitArgs>[]>;
    /** `--user`: `uid`, `uid:gid`, `name` or `name:group`. Default the image's. */
    user?: pulumi.Input<string>;
    /** `--workdir`, absolute. Default the image's. */
    workingDir?: pulumi.Input<string>;
    /** The entrypoint: the first word is `--entrypoint`, the others go before `args`. `[]` clears the image's. Default the image's. */
    entrypoints?: pulumi.Input<pulumi.Input<string>[]>;
    /** Container labels. `nvidia-gpu.pulumi.com/*` is this library's own. Default none. */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** The health check. Default the image's. */
    healthcheck?: pulumi.Input<DockerHealthcheckArgs>;
    /** `--log-driver` (`json-file`, `local`, `journald`, …). Default the daemon's. */
    logDriver?: pulumi.Input<string>;
    /** `--log-opt`s (`max-size: 10m`). Default none. */
    logOpts?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * The owner of a rootless Docker daemon: `docker` then runs as this user against
     * unix:///run/user/<uid>/docker.sock. Default: the rootful daemon (as root, through sudo for another SSH user).
     * `node.dockerTarget()` sets it for a `docker-rootless` node.
     */
    rootlessUser?: pulumi.Input<string | undefined>;
    /** Default `exact`. */
    compatibilityMode?: pulumi.Input<CompatibilityMode>;
    /**
     * `docker` (default) or `podman`. Podman takes GPUs only as CDI devices: `gpuSelection` defaults to `cdi` there and
     * `gpus`/`runtime` are refused; preview warns when the host's CDI spec is a format its Podman cannot read.
     */
    engine?: pulumi.Input<ContainerEngine>;
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
                ports: args.ports,
                volumes: args.volumes,
                tmpfs: args.tmpfs,
                networkMode: args.networkMode,
                ipcMode: args.ipcMode,
                shmSize: args.shmSize,
                ulimits: args.ulimits,
                user: args.user,
                workingDir: args.workingDir,
                entrypoints: args.entrypoints,
                labels: args.labels,
                healthcheck: args.healthcheck,
                logDriver: args.logDriver,
                logOpts: args.logOpts,
                rootlessUser: args.rootlessUser,
                engine: args.engine,
                // Only the names: the values stay out of the spec, so nothing derived from them is logged or kept.
                secretEnvNames: pulumi.unsecret(pulumi.output(args.secretEnv ?? {}).apply((e) => Object.keys(e))),
                // The values checked here, so a bad one is refused by name like any arg (only `true` leaves the secret).
                secretEnvChecked: pulumi.unsecret(
                    pulumi.output(args.secretEnv ?? {}).apply((e) => secretEnvPreamble(e as Record<string, string>, "secretEnv") !== ""),
                ),
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
                const options: DockerRunOptions = {
                    ports: a.ports as DockerRunOptions["ports"],
                    volumes: a.volumes,
                    tmpfs: a.tmpfs,
                    networkMode: a.networkMode,
                    ipcMode: a.ipcMode,
                    shmSize: a.shmSize,
                    ulimits: a.ulimits,
                    user: a.user,
                    workingDir: a.workingDir,
                    entrypoints: a.entrypoints,
                    labels: a.labels,
                    healthcheck: a.healthcheck,
                    logDriver: a.logDriver,
                    logOpts: a.logOpts,
                };
                const container = dockerContainerPlan(
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
                        options,
                        secretEnv: a.secretEnvNames,
                        rootlessUser: a.rootlessUser ?? undefined,
                        engine: a.engine ?? undefined,
                    },
                    // Refusals name the args as the user wrote them.
                    {
                        name: a.containerName === undefined ? "containerName (the resource name by default)" : "containerName",
                        mode: "gpuSelection",
                        args: "args",
                        engine: "engine",
                    },
                );
                return {
                    verdict,
                    container,
                    gpu: container.mode !== "none",
                    podman: a.engine === ContainerEngine.Podman,
                    preset: a.preset,
                    containerName: a.containerName ?? name,
                    rootlessUser: a.rootlessUser ?? undefined,
                };
            });
        planOnHost(
            name,
            connection,
            spec,
            // Podman's preflight reads the CDI specs' format version, and whether podman-restart.service starts containers at boot.
            (s) => (s.podman ? [...PODMAN_CDI_SPECS, PODMAN_RESTART_LINK, PODMAN_RESTART_MASK].map((path) => ({ path })) : []),
            (snapshot, s) => {
                const { step, commandLine, capabilities, notes } = s.container;
                // The preview shows the exact docker run line (secret values as their names), and why capabilities travel as they do.
                void pulumi.log.info(`${name}: ${commandLine}${notes.map((n) => `\n  note: ${n}`).join("")}`, this);
                const findings = [
                    ...(s.podman ? podmanWorkloadFindings(snapshot.facts, snapshot.files) : []),
                    ...(s.podman ? podmanRestartFindings(s.containerName, s.container.restart, s.rootlessUser, snapshot.files) : []),
                    ...(s.gpu ? workloadPreflight(snapshot.facts, capabilities ?? [...DEFAULT_CAPABILITIES], s.preset) : []),
                ];
                const secretStdin =
                    args.secretEnv === undefined
                        ? undefined
                        : {
                              [step.name]: pulumi.secret(
                                  pulumi.output(args.secretEnv).apply((e) => secretEnvPreamble(e as Record<string, string>, "secretEnv")),
                              ),
                          };
                return { steps: [step], files: [], findings, secretStdin };
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
