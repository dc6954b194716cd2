import { GpuConfigError } from "../errors";
import { CompatibilityMode, CompatibilityVerdict, checkImageAgainstDriver, parseCudaImage } from "./imagePolicy";

export interface WorkloadImagePolicy {
    mode?: CompatibilityMode;
    forwardCompatible?: boolean;
    requireCuda?: string;
}

/**
 * The image policy for a workload that may land on any of `drivers` (one per node; undefined where a
 * node's driver is not known yet). Throws on a pinned-tag violation or any incompatible node, so the
 * preview fails before anything is deployed; returns the verdicts otherwise.
 */
export function enforceImagePolicy(image: string, drivers: ReadonlyArray<string | undefined>, policy: WorkloadImagePolicy = {}, field = "image"): CompatibilityVerdict[] {
    const parsed = parseCudaImage(image, field);
    const verdicts = drivers.map((driver) => checkImageAgainstDriver(parsed, driver, policy));
    const bad = verdicts.find((v) => v.verdict === "incompatible");
    if (bad) throw new GpuConfigError(field, bad.reason, bad.fix ?? "pick another image");
    return verdicts;
}
