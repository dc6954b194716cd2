import * as pulumi from "@pulumi/pulumi";
import { RuntimeSpec, runtimePlan } from "../sdk/node/nodePlan";
import { DEFAULT_CDI_SPEC, cdiSpecStep } from "../sdk/toolkit/toolkitSteps";
import { rootlessDaemonJsonPath, validate, validateCdiSpecOutput, validateNoNul, validateNoNulDeep } from "../sdk/validate";
import { NodeConnectionArgs } from "./connection";
import { parseCdiDevices } from "./stepOutputs";
import { watchedFiles } from "../sdk/node/watchedFiles";
import { GpuComponentOptions, HostPlan, planOnHost } from "./planOnHost";

/** Settings shared by the runtime components. */
export interface RuntimeArgs {
    /** How to reach the host over SSH. */
    connection: NodeConnectionArgs;
    /** Name of the runtime entry. Default `nvidia`. */
    runtimeName?: pulumi.Input<string>;
    /** Make it the default runtime. Default false. */
    setAsDefault?: pulumi.Input<boolean>;
    /** Enable CDI in the runtime (not CRI-O, which has it natively) and write the CDI spec. Default false. */
    enableCdi?: pulumi.Input<boolean>;
}

export interface DockerRuntimeArgs extends RuntimeArgs {
    /** Configure this user's rootless Docker instead of the system daemon. */
    rootlessUser?: pulumi.Input<string>;
    /** Home of `rootlessUser`. Default `/home/<rootlessUser>`. */
    rootlessHome?: pulumi.Input<string>;
}

/** The plan step names and the files written, shared by the runtime components' outputs. */
function runtimeOutputs(planned: pulumi.Output<HostPlan>) {
    return {
        steps: planned.apply((p) => p.steps.map((s) => s.name)),
        files: planned.apply((p) => p.files.map((f) => f.path)),
    };
}

/**
 * The runtime spec with every user-given string checked, naming its field, before the host is read:
 * a NUL, a bad runtime name or a relative `rootlessHome` never reaches the read-only snapshot script.
 */
export function checkedRuntimeSpec(spec: RuntimeSpec): RuntimeSpec {
    validateNoNulDeep({ ...spec }, "");
    if (spec.runtimeName !== undefined) validate(validateNoNul(spec.runtimeName, "runtimeName"), "name", "runtimeName");
    if (spec.runtime === "docker-rootless" || spec.rootlessHome !== undefined) rootlessDaemonJsonPath(spec.rootlessUser, spec.rootlessHome);
    return spec;
}

function planRuntime(name: string, args: RuntimeArgs, spec: pulumi.Output<RuntimeSpec>, parent: pulumi.Resource, opts?: GpuComponentOptions) {
    return planOnHost(
        name,
        args.connection,
        spec,
        (s) => watchedFiles(s),
        (snapshot, s) => runtimePlan(snapshot, s),
        parent,
        opts,
    );
}

/** Docker's daemon.json (rootful, or a user's rootless daemon) with the nvidia runtime, restarted only on change. */
export class DockerRuntime extends pulumi.ComponentResource {
    /** The plan's step names, in order. */
    public readonly steps: pulumi.Output<string[]>;
    /** The config files this component writes. */
    public readonly files: pulumi.Output<string[]>;

    constructor(name: string, args: DockerRuntimeArgs, opts?: GpuComponentOptions) {
        super("nvidia-gpu:index:DockerRuntime", name, {}, opts);
        const spec = pulumi
            .output({
                rootlessUser: args.rootlessUser,
                rootlessHome: args.rootlessHome,
                runtimeName: args.runtimeName,
                setAsDefault: args.setAsDefault,
                enableCdi: args.enableCdi,
            })
            .apply((a) => checkedRuntimeSpec({ ...a, runtime: a.rootlessUser ? "docker-rootless" : "docker" } as RuntimeSpec));
        ({ steps: this.steps, files: this.files } = runtimeOutputs(planRuntime(name, args, spec, this, opts)));
        this.registerOutputs({ steps: this.steps, files: this.files });
    }
}

/** containerd: the drop-in in /etc/containerd/conf.d and one `imports` line in config.toml (comments kept). */
export class ContainerdRuntime extends pulumi.ComponentResource {
    /** The plan's step names, in order. */
    public readonly steps: pulumi.Output<string[]>;
    /** The config files this component writes. */
    public readonly files: pulumi.Output<string[]>;

    constructor(name: string, args: RuntimeArgs, opts?: GpuComponentOptions) {
        super("nvidia-gpu:index:ContainerdRuntime", name, {}, opts);
        const spec = pulumi
            .output({ runtimeName: args.runtimeName, setAsDefault: args.setAsDefault, enableCdi: args.enableCdi })
            .apply((a) => checkedRuntimeSpec({ ...a, runtime: "containerd" } as RuntimeSpec));
        ({ steps: this.steps, files: this.files } = runtimeOutputs(planRuntime(name, args, spec, this, opts)));
        this.registerOutputs({ steps: this.steps, files: this.files });
    }
}

/** CRI-O: the drop-in in /etc/crio/crio.conf.d (the folder CRI-O reads). */
export class CrioRuntime extends pulumi.ComponentResource {
    /** The plan's step names, in order. */
    public readonly steps: pulumi.Output<string[]>;
    /** The config files this component writes. */
    public readonly files: pulumi.Output<string[]>;

    constructor(name: string, args: RuntimeArgs, opts?: GpuComponentOptions) {
        super("nvidia-gpu:index:CrioRuntime", name, {}, opts);
        const spec = pulumi
            .output({ runtimeName: args.runtimeName, setAsDefault: args.setAsDefault })
            .apply((a) => checkedRuntimeSpec({ ...a, runtime: "crio" } as RuntimeSpec));
        ({ steps: this.steps, files: this.files } = runtimeOutputs(planRuntime(name, args, spec, this, opts)));
        this.registerOutputs({ steps: this.steps, files: this.files });
    }
}

export interface CdiSpecArgs {
    /** How to reach the host over SSH. */
    connection: NodeConnectionArgs;
    /**
     * Where the spec is written. Default `/var/run/cdi/nvidia.yaml`. Must be a `.yaml` or `.json` file directly
     * in `/etc/cdi` or `/var/run/cdi` (the folders CDI reads; `/run/cdi` is `/var/run/cdi` on systemd hosts); destroy deletes it.
     */
    output?: pulumi.Input<string>;
}

/** The CDI spec generated from the host's GPUs (`nvidia-ctk cdi generate`), for Podman and CDI mode. */
export class CdiSpec extends pulumi.ComponentResource {
    /** Fully qualified device names, e.g. `nvidia.com/gpu=0`, `nvidia.com/gpu=GPU-<uuid>`, `nvidia.com/gpu=all`. */
    public readonly devices: pulumi.Output<string[]>;

    constructor(name: string, args: CdiSpecArgs, opts?: GpuComponentOptions) {
        super("nvidia-gpu:index:CdiSpec", name, {}, opts);
        // Checked before the host is read: create replaces this file and destroy deletes it.
        const spec = pulumi.output({ output: args.output }).apply((a) => ({ output: validateCdiSpecOutput(a.output ?? DEFAULT_CDI_SPEC, "output") }));
        const planned = planOnHost(
            name,
            args.connection,
            spec,
            () => [],
            (_snapshot, s) => ({ steps: [cdiSpecStep(s.output)], files: [] }),
            this,
            opts,
        );
        this.devices = planned.apply((p) => p.commands[0].command.stdout.apply(parseCdiDevices));
        this.registerOutputs({ devices: this.devices });
    }
}
