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
export function enforceImagePolicy(
    image: string,
    drivers: ReadonlyArray<string | undefined>,
    policy: WorkloadImagePolicy = {},
    field = "image",
): CompatibilityVerdict[] {
    const parsed = parseCudaImage(image, field);
    const verdicts = drivers.map((driver) => checkImageAgainstDriver(parsed, driver, policy));
    const bad = verdicts.find((v) => v.verdict === "incompatible");
    if (bad) throw new GpuConfigError(field, bad.reason, bad.fix ?? "pick another image");
    return verdicts;
}

/**
 * The image policy for a node pinned to a driver branch whose exact release is not known before the
 * install (the branch's newest): compatible when the branch's releases can reach the image's minimum
 * driver, refused naming both the image's minimum and the branch otherwise.
 */
export function enforceImagePolicyOnBranch(image: string, branch: string, policy: WorkloadImagePolicy = {}, field = "image"): CompatibilityVerdict[] {
    const parsed = parseCudaImage(image, field);
    const verdict = checkImageAgainstDriver(parsed, `${branch}.999.999`, policy);
    if (verdict.verdict === "incompatible") {
        const name = `${parsed.reference.repository}${parsed.reference.tag ? `:${parsed.reference.tag}` : ""}`;
        throw new GpuConfigError(
            field,
            `${name} needs NVIDIA driver ≥ ${verdict.minimumDriver} (CUDA ${parsed.cudaVersion}); the node is pinned to driver branch ${branch}, whose releases are all older`,
            `pin driver.branch to ${verdict.minimumDriver?.split(".")[0]} or newer, or pick an image for CUDA that branch supports`,
        );
    }
    return [{ ...verdict, reason: verdict.reason.replace(`driver ${branch}.999.999`, `driver branch ${branch}`) }];
}
