import * as pulumi from "@pulumi/pulumi";
import { Finding } from "../sdk/host/preflight";
import { NodePlanData } from "../sdk/report/planReport";
import { NodeSpec, nodePlan } from "../sdk/node/nodePlan";
import { watchedFiles } from "../sdk/node/watchedFiles";
import { TOOLKIT_CONFIG } from "../sdk/toolkit/toolkitConfig";
import { rootlessDaemonJsonPath, validateNoNulDeep } from "../sdk/validate";
import { maskCredentials } from "../sdk/secrets/credentials";
import { dockerHost, dockerHostFindings } from "../sdk/runtime/dockerHost";
import { InjectionModeData, injectionMode, validateRuntimeMode } from "../sdk/toolkit/injectionMode";
import { NodeConnectionArgs, resolveConnection } from "./connection";
import { ContainerRuntime, FabricManager } from "./enums";
import { GpuConfigError } from "../sdk/errors";
import { NODE_FIELDS, NodeFields, nodeFieldProblems, nodeSpecOf as specOf } from "../sdk/node/nodeSpec";
import { GpuComponentOptions, HostPlan, commandsOf as componentCommandsOf, planOnHost } from "./planOnHost";
import { DockerTarget, registerTarget } from "./dockerTarget";
import { ContainerEngine } from "./dockerGpuContainer";
import { DriverArgs, MigLayoutArgs, ToolkitArgs } from "./nodeArgs";
import { parseCdiDevices, parseDriverState } from "./stepOutputs";

// Kept for code that imported them from here; the parts import them from where they live.
export { DriverArgs, MigDeviceLayoutArgs, MigLayoutArgs, ToolkitArgs } from "./nodeArgs";
export { DockerTarget, nodeOfTarget } from "./dockerTarget";
export { parseCdiDevices, parseDriverState } from "./stepOutputs";
export { DEFAULT_TOOLKIT_VERSION } from "../sdk/spec/defaults";
export { watchedFiles } from "../sdk/node/watchedFiles";

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
                // Whether dockerHost reaches this node's daemon as its user (docker group, rootless context). The
                // preview shows every finding (planOnHost), the MIG layout the host has and will get among them.
                const access = dockerHostFindings(snapshot, s);
                return { steps: node.plan.steps, files: node.files, findings: [...node.findings, ...access] };
            },
            this,
            opts,
            true, // a fleet has many GpuNodes: their steps share one helpers file per node (state size, issue 24)
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
        registerTarget(connection, this);
        return {
            connection,
            driverVersion: this.driverVersion,
            driverBranch: this.driverBranch,
            rootlessUser: nodeRootlessUsers.get(this),
            engine: this.runtimes.apply((r) => (r.includes(ContainerRuntime.Podman) ? ContainerEngine.Podman : ContainerEngine.Docker)),
        };
    }
}

/** Each node's connection: kept out of the component's properties, so credentials never become outputs. */
const nodeConnections = new WeakMap<GpuNode, NodeConnectionArgs>();
/** Each docker-rootless node's daemon owner (undefined for other runtimes). */
const nodeRootlessUsers = new WeakMap<GpuNode, pulumi.Output<string | undefined>>();
/** The connection a node was created with, for TypeScript code that runs more on the same host. */
export function connectionOf(node: GpuNode): NodeConnectionArgs {
    const connection = nodeConnections.get(node);
    if (connection === undefined) throw new Error("connectionOf: not a GpuNode of this library");
    return connection;
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

/** The node's spec: the spec module's fields, checked by name before anything is sent to the host, with its defaults. */
function nodeSpecOf(args: GpuNodeArgs): pulumi.Output<NodeSpec> {
    const fields = Object.fromEntries(NODE_FIELDS.map((field) => [field, args[field]]));
    return pulumi.output(fields).apply((a) => {
        const node = a as NodeFields;
        // Refused by field name before anything is sent to the host (issue 14).
        validateNoNulDeep(node, "");
        for (const p of nodeFieldProblems(node)) throw new GpuConfigError(p.field, p.problem, p.fix);
        if (node.runtime === "docker-rootless" || node.rootlessHome !== undefined) rootlessDaemonJsonPath(node.rootlessUser, node.rootlessHome);
        return specOf(node);
    });
}
