/**
 * The real-GPU suite's driver checks made here (issue 23), from the snapshot the apply met on the GPU machine: the probe
 * reads who owns the driver there (no package: it lives under /usr/local/nvidia), a pin that driver satisfies (its
 * version, its branch) plans no install, and a pin it does not satisfy is refused at preview. Mismatched pins are only
 * ever planned, never run: nothing may install, remove or change the driver there.
 */
import { describeOwner } from "../../sdk/host/driverFacts";
import { parseSnapshot } from "../../sdk/host/snapshot";
import { PinKind, loadedDriverOf, mismatchedPin, pinFor, planFor } from "./gpuSuite";

export interface DriverCheck {
    name: string;
    passed: boolean;
    detail: string;
}

const INSTALL_STEPS = /^driver-(packages|kernel-headers|cuda-repo|reboot)$/;

export function driverChecks(snapshotText: string): DriverCheck[] {
    const checks: DriverCheck[] = [];
    const o = parseSnapshot(snapshotText, "gpu-device").facts.driverOwnership!;
    const loaded = loadedDriverOf(snapshotText);
    checks.push({
        name: "driver-owner-read",
        passed: o.probed && o.owner === "no-package" && o.version === loaded,
        detail: `${o.owner}: driver ${o.version} (${describeOwner(o)}), library ${o.library ?? "none"}, uninstaller ${o.uninstaller ?? "none"}, read by the probe: ${o.probed}`,
    });
    for (const kind of ["version", "branch"] as PinKind[]) {
        const pin = pinFor(snapshotText, kind);
        const plan = planFor(snapshotText, pin);
        const kept = plan.findings.find((f) => f.startsWith("info driver-kept:"));
        const want = `driver ${loaded} (no package owns it) satisfies ${kind} ${pin.version ?? pin.branch}`;
        const installs = plan.steps.filter((s) => INSTALL_STEPS.test(s.name)).map((s) => s.name);
        checks.push({
            name: `driver-${kind}-kept-at-preview`,
            passed: kept?.includes(want) === true && installs.length === 0,
            detail: `${kept ?? "no driver-kept finding"}${installs.length ? `; install steps planned: ${installs.join(", ")}` : ""}`,
        });
        const other = mismatchedPin(snapshotText, kind);
        let refusal: string | undefined;
        try {
            planFor(snapshotText, other);
        } catch (e) {
            refusal = (e as Error).message;
        }
        checks.push({
            name: `driver-mismatched-${kind}-refused`,
            passed:
                refusal !== undefined && refusal.includes(`driver.${kind} ${other.version ?? other.branch}:`) && refusal.includes("remove that driver first"),
            detail: refusal ?? `driver ${JSON.stringify(other)} was planned, not refused`,
        });
    }
    return checks;
}
