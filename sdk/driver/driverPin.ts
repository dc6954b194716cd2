/**
 * What a driver pin means on a host whose driver no package owns (issue 23): NVIDIA's runfile, or a driver built and
 * placed by other means (as on cloud and lab images under /usr/local/nvidia). Such a driver cannot be upgraded by a
 * package: installing one over it leaves two drivers that break each other (NVIDIA's CUDA installation guide, "Handle
 * Conflicting Installation Methods"). So a pin it satisfies plans no install, and a pin it does not is an error.
 */
import { GpuConfigError } from "../errors";
import { DriverOwnership, describeOwner, ownedByNoPackage, parseDriverOwnership } from "../host/driverFacts";
import { Finding } from "../host/preflight";
import { HostFacts } from "../host/hostFacts";
import { checkedDriverPin } from "./driverPlan";

/** The pin as the user wrote it (GpuNodeArgs `driver`). */
export interface DriverPin {
    version?: string;
    branch?: string;
    kernelModules?: string;
}

export type PinDecision =
    /** Plan the install as usual: a package owns the driver (an update), or there is none. */
    | { kind: "install" }
    /** The loaded driver satisfies the pin and no package owns it: nothing to install, nothing to reboot. */
    | { kind: "keep"; note: Finding; summary: string }
    /** The pin asks for another driver than the one no package owns: refused at preview. */
    | { kind: "conflict"; finding: Finding };

/** The host's driver ownership: the probe's own read, or inferred from an older probe's package list. */
export function ownershipOf(facts: HostFacts): DriverOwnership {
    return facts.driverOwnership ?? parseDriverOwnership({}, facts);
}

/** Decides what a pin does on the host (not called on WSL2, where the driver lives on Windows). */
export function driverPinDecision(facts: HostFacts, pin: DriverPin): PinDecision {
    // A malformed pin is refused by its own field's name before the host's driver is compared with it.
    checkedDriverPin(pin);
    const o = ownershipOf(facts);
    if (!ownedByNoPackage(o) || o.version === undefined) return { kind: "install" };
    const field = pin.version !== undefined ? "driver.version" : "driver.branch";
    const asked = pin.version !== undefined ? `version ${pin.version}` : `branch ${pin.branch}`;
    const matches = (v: string | undefined) => v === undefined || (pin.version !== undefined ? v === pin.version : v.startsWith(`${pin.branch}.`));
    const owner = describeOwner(o);
    const loadedModules = facts.driver.kernelModule;
    const modulesDiffer = pin.kernelModules !== undefined && loadedModules !== undefined && pin.kernelModules !== loadedModules;
    if (matches(o.version) && matches(facts.driver.libraryVersion) && !modulesDiffer) {
        const summary = `driver ${o.version} (${owner}) satisfies ${asked}`;
        return {
            kind: "keep",
            summary,
            note: {
                id: "driver-kept",
                severity: "info",
                message: `${summary}: nothing is installed and no reboot is needed`,
                fix: "none needed; the plan keeps unattended upgrades off nvidia-* and checks the loaded driver against the library",
            },
        };
    }
    const removal =
        o.owner === "runfile"
            ? `remove that driver first (run ${o.uninstaller ?? "nvidia-uninstall"} as root; nvidia-uninstall is the runfile's own uninstaller)`
            : `remove that driver first (no package and no nvidia-uninstall owns it: whatever placed ${o.library ?? "its files"} must remove it)`;
    const pinLoaded = `or pin the loaded version: driver.version ${o.version}${pin.branch !== undefined ? ` (or driver.branch ${o.version.split(".")[0]})` : ""}`;
    if (modulesDiffer && matches(o.version)) {
        return {
            kind: "conflict",
            finding: {
                id: "driver-unowned-conflict",
                severity: "error",
                message: `driver.kernelModules ${pin.kernelModules}: the host's driver ${o.version} (${owner}) has ${loadedModules} kernel modules, and no package can replace a driver no package owns`,
                fix: `${removal}, or set driver.kernelModules to ${loadedModules}`,
            },
        };
    }
    return {
        kind: "conflict",
        finding: {
            id: "driver-unowned-conflict",
            severity: "error",
            message: `${field} ${pin.version ?? pin.branch}: the host's driver ${o.version} (${owner}) is not ${asked}, and installing a package over a driver no package owns leaves two drivers that break each other (NVIDIA CUDA installation guide, "Handle Conflicting Installation Methods")`,
            fix: `${removal}, ${pinLoaded}`,
        },
    };
}

/**
 * For a driver-only plan (NvidiaDriver): the summary to keep the loaded driver by, `undefined` to plan the install, or a
 * GpuConfigError naming the pin's field and the way out when the pin conflicts with a driver no package owns.
 */
export function keptDriver(facts: HostFacts, pin: DriverPin): string | undefined {
    const decision = driverPinDecision(facts, pin);
    if (decision.kind === "conflict") {
        const field = decision.finding.message.split(" ")[0];
        throw new GpuConfigError(field, decision.finding.message.slice(field.length + 1), decision.finding.fix);
    }
    return decision.kind === "keep" ? decision.summary : undefined;
}
