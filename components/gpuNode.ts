import * as pulumi from "@pulumi/pulumi";
import { Finding } from "../sdk/host/preflight";
import { NodePlanData } from "../sdk/report/planReport";
import { NodeSpec, nodePlan } from "../sdk/plan/nodePlan";
import { watchedFiles } from "../sdk/plan/watchedFiles";
import { TOOLKIT_CONFIG } from "../sdk/render/toolkitConfig";
import { rootlessDaemonJsonPath, validateNoNulDeep } from "../sdk/validate";
import { dockerHostFindings, rootlessCliConfigPath } from "../sdk/host/dockerHostAccess";
import { maskCredentials } from "../sdk/secrets/credentials";
import { dockerHost } from "../sdk/runtime/dockerHost";
import { InjectionModeData, injectionMode, validateRuntimeMode } from "../sdk/plan/injectionMode";
import { NodeConnectionArgs, resolveConnection } from "./connection";
import { ContainerRuntime, DriverSource, FabricManager, KernelModules, RuntimeMode } from "./enums";
import { GpuComponentOptions, HostPlan, commandsOf as componentCommandsOf, planOnHost } from "./planOnHost";

/** The NVIDIA driver to install. Exactly one of `branch` or `version`. */
export interface DriverArgs {
    /** Driver branch, e.g. `580`, kept on its newest release. Mutually exclusive with `version`. */
    branch?: pulumi.Input<string>;
    /** Exact driver version, e.g. `580.95.05`. Mutually exclusive with `branch`. */
    version?: pulumi.Input<string>;
    /** Kernel modules. Default `open` (required on Blackwell, recommended from Turing on). */
    kernelModules?: pulumi.Input<KernelModules>;
    /** Where packages come from. Default `distro` on Ubuntu (signed precompiled modules), `cuda-repo` elsewhere. */
    source?: pulumi.Input<DriverSource>;
    /** Ubuntu only: the `-server` (data-centre) flavour. Default true. */
    server?: pulumi.Input<boolean>;
    /** Mirror of NVIDIA's CUDA repository, for air-gapped hosts. */
    cudaRepoUrl?: pulumi.Input<string>;
    /** Package names to install instead of the defaults. */
    packages?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Reboot the host when the installed driver is not the loaded one; the next step waits for SSH
     * (connection.dialErrorLimit × perDialTimeout, 30 × 15 s by default). Default false: `rebootPending` reports it.
     */
    reboot?: pulumi.Input<boolean>;
    /**
     * What destroy does with the driver. Default false: the driver stays installed (removing it stops every GPU
     * workload on the host) and only the pin's hold is released. True: destroy purges the driver packages (Debian's
     * own driver, `source: distro` on Debian).
     */
    purgeOnDestroy?: pulumi.Input<boolean>;
}

/** The NVIDIA Container Toolkit to install: four packages pinned to one version. */
export interface ToolkitArgs {
    /** Version of all four packages, with the package release. Default `1.20.0-1`. */
    version?: pulumi.Input<string>;
    /** Also enable NVIDIA's experimental channel. Default false. */
    experimental?: pulumi.Input<boolean>;
    /** Repository base URL, for mirrors and air-gapped setups. Default `https://nvidia.github.io/libnvidia-container`. */
    repoUrl?: pulumi.Input<string>;
    /** Signing key URL. Default `<repoUrl>/gpgkey`. */
    keyUrl?: pulumi.Input<string>;
    /** Fingerprint the key must have. Default NVIDIA's (`C95B321B61E88C1809C4F759DDCAE044F796ECB0`). */
    keyFingerprint?: pulumi.Input<string>;
    /**
     * How the NVIDIA runtime injects GPUs (`nvidia-container-runtime.mode` in /etc/nvidia-container-runtime/config.toml):
     * `auto`, `jit-cdi` (toolkit ≥ 1.18), `cdi` (≥ 1.12) or `legacy`. Default: the host's setting is left as it is
     * (the package's is `auto`, which toolkit ≥ 1.18 resolves to `jit-cdi`, older toolkits to `legacy`); the plan
     * shows the mode in effect. In `jit-cdi` and `cdi` the runtime no longer refuses an image whose
     * `NVIDIA_REQUIRE_CUDA` the driver does not meet (NVIDIA/nvidia-container-toolkit#1470): DockerGpuContainer checks
     * images against the driver at preview instead. With `cdi` or `jit-cdi`, `docker run --gpus` without the nvidia
     * runtime fails (NVIDIA's hook runs only in legacy mode).
     */
    mode?: pulumi.Input<RuntimeMode>;
}

/** The settings of a GPU node: how to reach it, and what to set up on it. */
export interface GpuNodeArgs {
    /** How to reach the host over SSH. */
    connection: NodeConnectionArgs;
    /** The container runtime to set up. Default `docker`. */
    runtime?: pulumi.Input<ContainerRuntime>;
    /** The driver to install. Default: none — the host's driver is kept (and checked). Skipped on WSL2, where the driver lives on Windows. */
    driver?: DriverArgs;
    /** The Container Toolkit. Default: version 1.20.0-1 from NVIDIA's stable repository. */
    toolkit?: ToolkitArgs;
    /** Owner of the rootless Docker daemon. Required for `docker-rootless`. */
    rootlessUser?: pulumi.Input<string>;
    /** Home folder of `rootlessUser`. Default `/home/<rootlessUser>`. */
    rootlessHome?: pulumi.Input<string>;
    /** Name of the runtime entry. Default `nvidia`. */
    runtimeName?: pulumi.Input<string>;
    /** Make the nvidia runtime the default runtime. Default false. */
    setAsDefault?: pulumi.Input<boolean>;
    /** Enable CDI in the runtime (Docker `features.cdi`, containerd `enable_cdi`) and write the CDI spec. Default false. */
    enableCdi?: pulumi.Input<boolean>;
    /**
     * NVIDIA Fabric Manager: installed at exactly the driver's version and held, started, and the NVLink fabric
     * checked Completed before the runtime is set up; the NVLink subnet manager (nvlsm) too on HGX B200/B300.
     * Default `auto` (decided from the host's NVSwitch devices and fabric state). Needs systemd and a known
     * driver version (`driver.version`, or a host with a driver).
     */
    fabricManager?: pulumi.Input<FabricManager>;
    /** Enable and start nvidia-persistenced on data-centre GPUs and check that persistence mode is Enabled. Default true; false leaves it alone. */
    persistenced?: pulumi.Input<boolean>;
    /**
     * The MIG layout to apply after the driver; omit it to leave MIG as it is. GPU instances do not survive a
     * reboot (only the mode does), so the next `up` creates them again.
     */
    migLayout?: MigLayoutArgs;
}

/** A node's MIG layout, in the style of mig-parted's configs. */
export interface MigLayoutArgs {
    /** One entry per group of GPUs. */
    devices: pulumi.Input<pulumi.Input<MigDeviceLayoutArgs>[]>;
    /** systemd units that hold the GPUs, stopped while MIG changes and started again after. Default: DCGM and its exporter. */
    stopServices?: pulumi.Input<pulumi.Input<string>[]>;
}

/** The MIG layout of some of a node's GPUs. */
export interface MigDeviceLayoutArgs {
    /** GPU indexes (`"0"`) or UUIDs. Default: every GPU no other entry names. */
    gpus?: pulumi.Input<pulumi.Input<string>[]>;
    /** MIG mode. Default: true when `profiles` is given, else false. */
    enabled?: pulumi.Input<boolean>;
    /** GPU instance profiles and how many of each, e.g. `{ "3g.71gb": 2 }`; each gets one full compute instance. Refused when the GPU lacks a profile, naming those it has. */
    profiles?: pulumi.Input<Record<string, pulumi.Input<number>>>;
}

/** One GPU of the node. */
export interface NodeGpu {
    /** The GPU's index, as `nvidia-smi` numbers it. */
    index: number;
    /** The GPU's product name, e.g. `NVIDIA H100 80GB HBM3`. */
    name: string;
    /** The GPU's UUID (`GPU-…`). */
    uuid: string;
    /** The GPU's memory in MiB. */
    memoryMiB: number;
}

export const DEFAULT_TOOLKIT_VERSION = "1.20.0-1";

/** The files a plan for this spec may edit, read at preview (sdk/plan/watchedFiles; kept here for existing imports). */
export { watchedFiles };

/**
 * A Linux host turned into a working NVIDIA GPU container host: probe → preflight → driver → toolkit →
 * runtime configs → verify, each step a `remote.Command`. `new GpuNode("gpu-1", { connection })` is a
 * complete call. Previews show every host file's exact diff against the live file.
 */
export class GpuNode extends pulumi.ComponentResource {
    /**
     * The driver version the node runs once applied: the pinned `driver.version`, else the version the host
     * has loaded (when it is kept or already on the pinned branch). Known at preview, so workloads are
     * checked against it before anything runs; undefined when only a branch is known.
     */
    public readonly driverVersion: pulumi.Output<string | undefined>;
    /** The driver branch the node runs once applied (`580`): the pinned branch, or that of the known version. */
    public readonly driverBranch: pulumi.Output<string | undefined>;
    /** The toolkit packages' version. */
    public readonly toolkitVersion: pulumi.Output<string>;
    /** The runtimes configured. */
    public readonly runtimes: pulumi.Output<string[]>;
    /** The GPUs the host has. */
    public readonly gpus: pulumi.Output<NodeGpu[]>;
    /** Fully qualified CDI device names (`nvidia.com/gpu=0`, `…=GPU-<uuid>`, `…=all`) once the CDI spec is written. */
    public readonly cdiDevices: pulumi.Output<string[]>;
    /** True when driver packages changed but the loaded module did not: the host needs a reboot. */
    public readonly rebootPending: pulumi.Output<boolean>;
    /** Preflight warnings and notes (errors stop the plan before anything runs). */
    public readonly findings: pulumi.Output<Finding[]>;
    /** The plan's step names, in order. */
    public readonly steps: pulumi.Output<string[]>;
    /** `ssh://user@host[:port]`, for `DOCKER_HOST` on a remote Docker client. */
    public readonly dockerHost: pulumi.Output<string>;
    /** The plan in words: steps, packages, files with their old and new text, restarts. `gpu-node plan` prints it. */
    public readonly plan: pulumi.Output<NodePlanSummary>;

    constructor(name: string, args: GpuNodeArgs, opts?: GpuComponentOptions) {
        super("nvidia-gpu:index:GpuNode", name, {}, opts);
        // Not a property: Pulumi's schema turns every property into an output, and the key would land in state.
        nodeConnections.set(this, args.connection);
        const spec = nodeSpecOf(args);
        const planned = planOnHost(
            name,
            args.connection,
            spec,
            watchedFiles,
            (snapshot, s) => {
                const node = nodePlan(snapshot, s);
                // The MIG layout the host has and the one it will get, in the preview (like the files' diffs).
                const mig = node.findings.find((f) => f.id === "mig-layout");
                if (mig !== undefined) pulumi.log.info(`${name}: ${mig.message}`, this);
                // Whether dockerHost reaches this node's daemon as its user (docker group, rootless context).
                const cliConfig = s.runtime === "docker-rootless" ? rootlessCliConfigPath(rootlessDaemonJsonPath(s.rootlessUser, s.rootlessHome)) : undefined;
                const access = dockerHostFindings(snapshot.facts, s.runtime, s.rootlessUser, cliConfig === undefined ? undefined : snapshot.files[cliConfig]);
                for (const f of access) void pulumi.log.warn(`${name}: ${f.message} — ${f.fix}`, this);
                return { steps: node.plan.steps, files: node.files, findings: [...node.findings, ...access] };
            },
            this,
            opts,
        );

        const verify = planned.apply((p) => stdoutOf(p, "driver-verify").apply(parseDriverState));
        // Host facts are not secret, but they are read with the (secret) key: unsecret them, or every
        // output of the stack prints [secret].
        const known = pulumi.unsecret(pulumi.all([planned, spec]).apply(([p, s]) => plannedDriver(s, p.snapshot.facts.driver.loadedVersion)));
        this.driverVersion = known.apply((d) => d.version);
        this.driverBranch = known.apply((d) => d.branch);
        this.rebootPending = pulumi.unsecret(
            pulumi
                .all([planned, verify])
                .apply(([p, v]) => (v ? v.state === "reboot-required" : (p.findings?.some((f) => f.id === "driver-library-mismatch") ?? false))),
        );
        this.toolkitVersion = spec.apply((s) => s.toolkit.version);
        this.runtimes = spec.apply((s) => [s.runtime]);
        nodeRootlessUsers.set(
            this,
            spec.apply((s) => (s.runtime === "docker-rootless" ? s.rootlessUser : undefined)),
        );
        this.gpus = pulumi.unsecret(
            planned.apply((p) => p.snapshot.facts.gpus.map(({ index, name: gpuName, uuid, memoryMiB }) => ({ index, name: gpuName, uuid, memoryMiB }))),
        );
        this.cdiDevices = pulumi.unsecret(planned.apply((p) => stdoutOf(p, "cdi-spec").apply(parseCdiDevices)));
        this.findings = pulumi.unsecret(planned.apply((p) => p.findings ?? []));
        this.steps = pulumi.unsecret(planned.apply((p) => p.steps.map((step) => step.name)));
        this.plan = pulumi.unsecret(pulumi.all([planned, spec]).apply(([p, s]) => summarisePlan(p, nodeInjectionMode(s, p.snapshot.files[TOOLKIT_CONFIG]))));
        // Rootless Docker is the user's own daemon: DOCKER_HOST must log in as that user, not as root (its engine says).
        this.dockerHost = pulumi.unsecret(pulumi.all([resolveConnection(args.connection), spec]).apply(([c, s]) => dockerHost(s, c)));
        this.registerOutputs({
            driverVersion: this.driverVersion,
            driverBranch: this.driverBranch,
            toolkitVersion: this.toolkitVersion,
            runtimes: this.runtimes,
            gpus: this.gpus,
            cdiDevices: this.cdiDevices,
            rebootPending: this.rebootPending,
            findings: this.findings,
            steps: this.steps,
            dockerHost: this.dockerHost,
        });
    }

    /**
     * Where a `DockerGpuContainer` on this node runs: spread it into the container's args
     * (`{ ...node.dockerTarget(), image }`). The container then checks its image against this node's driver
     * and waits for the node's last step. (A method, not a property: it carries the connection's credentials.)
     */
    dockerTarget(): DockerTarget {
        const connection = { ...connectionOf(this) };
        targetNodes.set(connection, this);
        return { connection, driverVersion: this.driverVersion, driverBranch: this.driverBranch, rootlessUser: nodeRootlessUsers.get(this) };
    }
}

/** A GpuNode as a DockerGpuContainer's host: its connection and its driver, as `GpuNode.dockerTarget()` gives them. */
export interface DockerTarget {
    connection: NodeConnectionArgs;
    driverVersion: pulumi.Input<string | undefined>;
    driverBranch: pulumi.Input<string | undefined>;
    /** The rootless daemon's owner on a `docker-rootless` node, so the container lands on that user's daemon. */
    rootlessUser?: pulumi.Input<string | undefined>;
}

/** Each node's connection: kept out of the component's properties, so credentials never become outputs. */
const nodeConnections = new WeakMap<GpuNode, NodeConnectionArgs>();
/** Each docker-rootless node's daemon owner (undefined for other runtimes). */
const nodeRootlessUsers = new WeakMap<GpuNode, pulumi.Output<string | undefined>>();
/** Connections handed out by `dockerTarget()`, and the node each belongs to. */
const targetNodes = new WeakMap<NodeConnectionArgs, GpuNode>();

/** The connection a node was created with, for TypeScript code that runs more on the same host. */
export function connectionOf(node: GpuNode): NodeConnectionArgs {
    const connection = nodeConnections.get(node);
    if (connection === undefined) throw new Error("connectionOf: not a GpuNode of this library");
    return connection;
}

/** The node whose `dockerTarget()` gave this connection, if any. */
export function nodeOfTarget(connection: NodeConnectionArgs): GpuNode | undefined {
    return targetNodes.get(connection);
}

/**
 * The node's commands, for `dependsOn`: they are created once the host is read, inside an apply, so
 * `dependsOn: [node]` alone would expand to no commands and a workload could start before the node is ready.
 */
export function commandsOf(node: pulumi.Resource): pulumi.Output<pulumi.Resource[]> {
    return componentCommandsOf(node);
}

/** The driver a node runs once applied, as far as it is known before anything runs. */
export function plannedDriver(spec: NodeSpec, loaded: string | undefined): { version: string | undefined; branch: string | undefined } {
    const branchOf = (v: string | undefined) => v?.split(".")[0];
    if (spec.driver?.version) return { version: spec.driver.version, branch: branchOf(spec.driver.version) };
    if (spec.driver?.branch) return { version: branchOf(loaded) === spec.driver.branch ? loaded : undefined, branch: spec.driver.branch };
    return { version: loaded, branch: branchOf(loaded) };
}

/** What a node's plan does, in data: for previews, `gpu-node plan` and baselines. */
export type NodePlanSummary = NodePlanData;

export function summarisePlan(plan: Pick<HostPlan, "steps" | "files" | "findings">, mode?: InjectionModeData): NodePlanSummary {
    return {
        steps: plan.steps.map((s) => ({ name: s.name, description: s.description, rebootRequired: s.rebootRequired ?? false })),
        packages: plan.steps.flatMap((s) => s.changes.filter((c) => c.startsWith("package ")).map((c) => c.slice("package ".length))),
        // GpuNode.plan is a plain output: registry passwords and proxy credentials are masked (issue 14).
        files: plan.files.map((f) => ({
            path: f.path,
            previous: f.previous === undefined ? undefined : maskCredentials(f.previous),
            text: maskCredentials(f.text),
            changed: f.changed,
            summary: f.summary.map(maskCredentials),
        })),
        restarts: plan.steps.filter((s) => s.name.endsWith("-restart")).map((s) => s.name.replace(/-restart$/, "")),
        findings: plan.findings ?? [],
        ...(mode === undefined ? {} : { injectionMode: mode }),
    };
}

/** The injection mode a node's containers get once its plan has run, from the spec and the host's live toolkit config. */
export function nodeInjectionMode(spec: NodeSpec, liveToolkitConfig: string | undefined): InjectionModeData {
    return injectionMode(spec.toolkit.version, validateRuntimeMode(spec.toolkit.mode, spec.toolkit.version), liveToolkitConfig);
}

/** The stdout of one step's command, or "" when the plan has no such step. */
function stdoutOf(plan: HostPlan, step: string): pulumi.Output<string> {
    return plan.commands.find((c) => c.step.name === step)?.command.stdout ?? pulumi.output("");
}

/** `{"loaded":"…","library":"…","state":"ok|reboot-required"}` as printed by the driver-verify step. */
export function parseDriverState(stdout: string): { loaded: string; library: string; state: string } | undefined {
    const line = stdout.split("\n").find((l) => l.startsWith('{"loaded"'));
    return line ? (JSON.parse(line) as { loaded: string; library: string; state: string }) : undefined;
}

/** The `cdi-device NAME` lines printed by the cdi-spec step. */
export function parseCdiDevices(stdout: string): string[] {
    return stdout
        .split("\n")
        .filter((l) => l.startsWith("cdi-device "))
        .map((l) => l.slice("cdi-device ".length).trim());
}

function nodeSpecOf(args: GpuNodeArgs): pulumi.Output<NodeSpec> {
    return pulumi
        .output({
            runtime: args.runtime ?? ContainerRuntime.Docker,
            driver: args.driver,
            toolkit: args.toolkit,
            rootlessUser: args.rootlessUser,
            rootlessHome: args.rootlessHome,
            runtimeName: args.runtimeName,
            setAsDefault: args.setAsDefault,
            enableCdi: args.enableCdi,
            fabricManager: args.fabricManager,
            persistenced: args.persistenced,
            migLayout: args.migLayout,
        })
        .apply((a) => {
            // Refused by field name before anything is sent to the host (issue 14).
            validateNoNulDeep(a, "");
            if (a.runtime === "docker-rootless" || a.rootlessHome !== undefined) rootlessDaemonJsonPath(a.rootlessUser, a.rootlessHome);
            return a;
        })
        .apply(
            (a) =>
                ({
                    runtime: a.runtime,
                    driver: a.driver,
                    toolkit: { version: DEFAULT_TOOLKIT_VERSION, ...a.toolkit },
                    rootlessUser: a.rootlessUser,
                    rootlessHome: a.rootlessHome,
                    runtimeName: a.runtimeName,
                    setAsDefault: a.setAsDefault,
                    enableCdi: a.enableCdi,
                    fabricManager: a.fabricManager,
                    persistenced: a.persistenced,
                    migLayout: a.migLayout,
                }) as NodeSpec,
        );
}
