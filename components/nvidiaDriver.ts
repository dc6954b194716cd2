import * as pulumi from "@pulumi/pulumi";
import { DRIVER_WATCHED_FILES, driverPlan } from "../sdk/driver/driverPlan";
import { keptDriver } from "../sdk/driver/driverPin";
import { NodeConnectionArgs } from "./connection";
import { DriverArgs } from "./nodeArgs";
import { parseDriverState } from "./stepOutputs";
import { GpuComponentOptions, planOnHost } from "./planOnHost";

export interface NvidiaDriverArgs extends DriverArgs {
    /** How to reach the host over SSH. */
    connection: NodeConnectionArgs;
}

/**
 * The NVIDIA driver, pinned to a branch or exact version, kept out of unattended upgrades, with a
 * check of the loaded module. Nothing is installed on WSL2, where the driver lives on Windows.
 */
export class NvidiaDriver extends pulumi.ComponentResource {
    /** The loaded driver version, as the verify step reports it. */
    public readonly loadedVersion: pulumi.Output<string | undefined>;
    /** True when packages changed but the loaded module did not: reboot the host. */
    public readonly rebootPending: pulumi.Output<boolean>;
    /** The plan's step names, in order (empty on WSL2). */
    public readonly steps: pulumi.Output<string[]>;

    constructor(name: string, args: NvidiaDriverArgs, opts?: GpuComponentOptions) {
        super("nvidia-gpu:index:NvidiaDriver", name, {}, opts);
        const spec = pulumi.output({
            branch: args.branch,
            version: args.version,
            kernelModules: args.kernelModules,
            source: args.source,
            server: args.server,
            cudaRepoUrl: args.cudaRepoUrl,
            packages: args.packages,
            reboot: args.reboot,
            purgeOnDestroy: args.purgeOnDestroy,
        });
        const planned = planOnHost(
            name,
            args.connection,
            spec,
            () => DRIVER_WATCHED_FILES.map((path) => ({ path })),
            (snapshot, s) => {
                if (snapshot.facts.wsl2) {
                    pulumi.log.info(`${name}: WSL2 host: no driver is installed, because the driver lives on the Windows host`, this);
                    return { steps: [], files: [] };
                }
                // A driver no package owns: kept when it satisfies the pin, refused when not (issue 23).
                const kept = keptDriver(snapshot.facts, s);
                if (kept !== undefined) pulumi.log.info(`${name}: ${kept}: nothing is installed and no reboot is needed`, this);
                const steps = driverPlan({ ...s, distro: snapshot.facts.os, arch: snapshot.facts.arch }, snapshot, kept);
                return { steps, files: steps.flatMap((step) => step.files ?? []) };
            },
            this,
            opts,
        );
        const state = planned.apply(
            (p) => p.commands.find((c) => c.step.name === "driver-verify")?.command.stdout.apply(parseDriverState) ?? pulumi.output(undefined),
        );
        this.loadedVersion = state.apply((s) => s?.loaded);
        this.rebootPending = state.apply((s) => s?.state === "reboot-required");
        this.steps = planned.apply((p) => p.steps.map((step) => step.name));
        this.registerOutputs({ loadedVersion: this.loadedVersion, rebootPending: this.rebootPending, steps: this.steps });
    }
}
