import * as pulumi from "@pulumi/pulumi";
import { toolkitPlan, toolkitWatchedFiles } from "../sdk/toolkit/toolkitPlan";
import { GpuConfigError } from "../sdk/errors";
import { TOOLKIT_CONFIG } from "../sdk/toolkit/toolkitConfig";
import { NodeConnectionArgs } from "./connection";
import { DEFAULT_TOOLKIT_VERSION } from "../sdk/spec/defaults";
import { ToolkitArgs } from "./nodeArgs";
import { GpuComponentOptions, planOnHost } from "./planOnHost";

export interface ContainerToolkitArgs extends ToolkitArgs {
    /** How to reach the host over SSH. */
    connection: NodeConnectionArgs;
}

/**
 * The NVIDIA Container Toolkit: NVIDIA's repository and signing key, the four packages pinned to one version, and
 * (with `mode`) the runtime's injection mode in its config.toml.
 */
export class ContainerToolkit extends pulumi.ComponentResource {
    /** The version all four packages are at. */
    public readonly version: pulumi.Output<string>;
    /** The plan's step names, in order. */
    public readonly steps: pulumi.Output<string[]>;

    constructor(name: string, args: ContainerToolkitArgs, opts?: GpuComponentOptions) {
        super("nvidia-gpu:index:ContainerToolkit", name, {}, opts);
        const spec = pulumi
            .output({
                version: args.version,
                experimental: args.experimental,
                repoUrl: args.repoUrl,
                keyUrl: args.keyUrl,
                keyFingerprint: args.keyFingerprint,
                mode: args.mode,
            })
            // After the inputs resolve: an input that resolves to undefined takes the default too.
            .apply((s) => ({ ...s, version: s.version ?? DEFAULT_TOOLKIT_VERSION }));
        const planned = planOnHost(
            name,
            args.connection,
            spec,
            // The toolkit config is read when the plan sets its mode: the step guards its write against it.
            (s) => [...(s.mode === undefined ? [] : [{ path: TOOLKIT_CONFIG }]), ...toolkitWatchedFiles()],
            (snapshot, s) => {
                const pm = snapshot.facts.packageManager;
                if (pm === undefined)
                    throw new GpuConfigError("packageManager", `no apt-get, dnf or zypper on ${snapshot.facts.os.prettyName}`, "use a supported distribution");
                const steps = toolkitPlan({ ...s, packageManager: pm }, snapshot);
                return { steps, files: steps.flatMap((step) => step.files ?? []) };
            },
            this,
            opts,
        );
        this.version = spec.apply((s) => s.version);
        this.steps = planned.apply((p) => p.steps.map((step) => step.name));
        this.registerOutputs({ version: this.version, steps: this.steps });
    }
}
