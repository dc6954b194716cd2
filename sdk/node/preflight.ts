import { Finding, PreflightRule } from "../host/preflight";
import { HostFacts } from "../host/hostFacts";
import { DriverPreflightIntent, driverFindings } from "../driver/driverPreflight";
import { runtimeHostFindings } from "../runtime/runtimePreflight";
import { toolkitPackageFindings, toolkitPlatformFindings } from "../toolkit/toolkitPreflight";

/** What the node is asked to do, as far as preflight needs it. */
export interface PreflightIntent extends DriverPreflightIntent {
    /** The rules of the runtime that will be configured (its engine's `preflight`). */
    rules?: readonly PreflightRule[];
    /** Services whose configuration the plan changes, so it restarts them (with systemctl). */
    restarts?: string[];
}

/**
 * Pure checks of host facts against NVIDIA's support matrix and the known user pains: the one runner over each
 * domain's rules (sdk/toolkit, sdk/runtime, sdk/driver), in the order a user fixes them.
 */
export function preflight(facts: HostFacts, intent: PreflightIntent): Finding[] {
    return [
        ...toolkitPlatformFindings(facts),
        ...runtimeHostFindings(facts, intent.rules ?? [], intent.restarts ?? []),
        ...driverFindings(facts, intent),
        ...toolkitPackageFindings(facts),
    ];
}
