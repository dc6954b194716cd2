import { GpuConfigError } from "../errors";
import { atLeast, compareVersions } from "../versions";
import { cudaVersionOfDriver, exactMinimumDriver, familyMinimumDriver, normaliseCuda } from "./cudaDriverTable";
import { ImageReference, parseImageReference } from "./imageReference";
import table from "./cuda-driver-table.json";

/** NVIDIA's CUDA images, on Docker Hub and NGC. */
const CUDA_REPOSITORIES = ["docker.io/nvidia/cuda", "nvcr.io/nvidia/cuda"];
/** NVIDIA's graphics images: tags are pinned too, `latest` is gone for them as well. */
const GRAPHICS_REPOSITORIES = ["docker.io/nvidia/opengl", "docker.io/nvidia/vulkan", "docker.io/nvidia/cudagl", "nvcr.io/nvidia/cudagl"];

/**
 * NVIDIA's floor for forward compatibility (CUDA Compatibility guide, "Forward Compatibility"; the notes
 * of cuda-driver-table.json): an image's cuda-compat libraries run a newer CUDA only on data-centre GPUs
 * (and select NGC-Server-Ready RTX cards and Jetson), and only on a base driver of a branch NVIDIA
 * supports, a Long Term Support or Production Branch. The table lists those branches; the others are
 * end-of-life, so a driver such as 418.81.07 or 470.x gets no forward compatibility at all.
 */
export const FORWARD_COMPAT_BRANCHES: readonly string[] = table.driverBranches
    .filter((b) => b.type === "LTSB" || b.type === "PB")
    .map((b) => b.branch.replace(/^R/, ""));

export const CUDA_FLAVORS = ["base", "runtime", "devel", "cudnn-runtime", "cudnn-devel"] as const;
const EXAMPLE = "nvidia/cuda:12.4.1-base-ubuntu22.04";

/** What the policy learned about an image. */
export interface CudaImage {
    reference: ImageReference;
    /** `x.y.z` for CUDA images; undefined for other images or digest-only references. */
    cudaVersion: string | undefined;
    flavor: string | undefined;
    os: string | undefined;
    kind: "cuda" | "graphics" | "other";
}

/**
 * Checks that an image is pinned and parses CUDA tags `<x.y[.z]>-<flavor>-<os>`. Refuses `latest`,
 * untagged references and unknown flavors, before anything is deployed.
 */
export function parseCudaImage(image: string, field = "image"): CudaImage {
    const reference = parseImageReference(image, field);
    const fullName = `${reference.registry}/${reference.repository}`;
    const kind = CUDA_REPOSITORIES.includes(fullName) ? "cuda" : GRAPHICS_REPOSITORIES.includes(fullName) ? "graphics" : "other";
    const shortName = fullName.replace(/^docker\.io\//, "");
    if (reference.tag === "latest") {
        throw new GpuConfigError(
            field,
            `${image} uses the tag "latest"`,
            kind === "other"
                ? "pin a tag or a digest, so every node runs the same image"
                : `NVIDIA removed "latest" from ${shortName} in 2021, so it no longer exists; pin a tag such as ${kind === "cuda" ? EXAMPLE : `${shortName}:1.2-glvnd-runtime-ubuntu20.04`}`,
        );
    }
    if (reference.tag === undefined && reference.digest === undefined) {
        throw new GpuConfigError(
            field,
            `${image} has no tag, which means "latest"`,
            kind === "cuda"
                ? `NVIDIA removed "latest" from ${shortName}; pin a tag such as ${EXAMPLE}`
                : "pin a tag or a digest, so every node runs the same image",
        );
    }
    if (kind !== "cuda" || reference.tag === undefined) return { reference, cudaVersion: undefined, flavor: undefined, os: undefined, kind };

    const tag =
        /^(?<version>\d+\.\d+(?:\.\d+)?)-(?<flavor>base|runtime|devel|cudnn-runtime|cudnn-devel|cudnn\d+-runtime|cudnn\d+-devel)-(?<os>[a-z]+\d+(?:\.\d+)?)$/.exec(
            reference.tag,
        );
    if (!tag?.groups) {
        throw new GpuConfigError(
            field,
            `${image}: "${reference.tag}" is not a CUDA tag <version>-<flavor>-<os> with a known flavor (${CUDA_FLAVORS.join(", ")}, cudnnN-runtime, cudnnN-devel)`,
            `use a tag such as ${EXAMPLE}`,
        );
    }
    return { reference, cudaVersion: normaliseCuda(tag.groups.version), flavor: tag.groups.flavor, os: tag.groups.os, kind };
}

/** How strictly the image's CUDA is matched against the driver. */
export enum CompatibilityMode {
    /** The driver must reach the CUDA release's Table 3 minimum: every feature works. Default. */
    Exact = "exact",
    /** Any driver of the CUDA major's minor-version family (e.g. ≥ 525.60.13 for 12.x): limited features (no newer PTX JIT). */
    MinorVersion = "minor-version",
}

export interface CompatibilityOptions {
    mode?: CompatibilityMode;
    /** The image carries cuda-compat forward-compatibility libraries (data-centre GPUs only). */
    forwardCompatible?: boolean;
    /** The image's `NVIDIA_REQUIRE_CUDA` label, when known. */
    requireCuda?: string;
}

export interface CompatibilityVerdict {
    verdict: "ok" | "incompatible" | "unknown";
    /** One line, for errors and the CLI. */
    reason: string;
    /** The lowest driver that runs the image in the chosen mode, where known. */
    minimumDriver: string | undefined;
    /** What to do, for `incompatible` and `unknown`. */
    fix?: string;
}

/** The image's CUDA against a node's driver (probed, or the version a NvidiaDriver will install). */
export function checkImageAgainstDriver(image: CudaImage, driver: string | undefined, options: CompatibilityOptions = {}): CompatibilityVerdict {
    const mode = options.mode ?? CompatibilityMode.Exact;
    const name = `${image.reference.repository}${image.reference.tag ? `:${image.reference.tag}` : ""}`;
    const requirement = options.requireCuda ? parseRequireCuda(options.requireCuda) : undefined;
    const cuda = image.cudaVersion ?? (requirement?.cuda ? normaliseCuda(requirement.cuda) : undefined);
    if (cuda === undefined) {
        return {
            verdict: "unknown",
            reason: `${name}: its CUDA version is not in the tag`,
            minimumDriver: undefined,
            fix: "pin a CUDA tag, or give the image's NVIDIA_REQUIRE_CUDA label",
        };
    }
    const minimum = mode === CompatibilityMode.Exact ? exactMinimumDriver(cuda)?.linux : familyMinimumDriver(cuda);
    if (minimum === undefined) {
        return {
            verdict: "unknown",
            reason: `CUDA ${cuda} is not in the CUDA/driver table of this library version`,
            minimumDriver: undefined,
            fix: "use a released CUDA version, or check compatibility by hand",
        };
    }
    if (driver === undefined) {
        return {
            verdict: "unknown",
            reason: `${name} needs driver ≥ ${minimum}; the node's driver is not known`,
            minimumDriver: minimum,
            fix: "give the node's driver version (probed, or the one a NvidiaDriver installs)",
        };
    }
    if (atLeast(driver, minimum)) {
        return {
            verdict: "ok",
            reason: `${name} (CUDA ${cuda}) runs on driver ${driver} (needs ≥ ${minimum}${mode === CompatibilityMode.MinorVersion ? ", minor-version compatibility" : ""})`,
            minimumDriver: minimum,
        };
    }
    if (options.forwardCompatible) {
        const branch = driver.split(".")[0];
        const branches = FORWARD_COMPAT_BRANCHES.map((b) => `R${b}`).join(", ");
        if (!FORWARD_COMPAT_BRANCHES.includes(branch)) {
            return {
                verdict: "incompatible",
                reason: `${name} needs NVIDIA driver ≥ ${minimum} for CUDA ${cuda}; forward compatibility cannot bridge that on driver ${driver}: NVIDIA supports it only on the data-centre branches ${branches}, and R${branch} is not one of them`,
                minimumDriver: minimum,
                fix: `upgrade the driver to ${minimum} or newer, or to a supported branch (${branches}) for forward compatibility`,
            };
        }
        if (requirement && requirement.alternatives.length > 0 && !requirement.alternatives.some((a) => inRange(driver, a))) {
            return {
                verdict: "incompatible",
                reason: `${name} needs NVIDIA driver ≥ ${minimum} for CUDA ${cuda}; its NVIDIA_REQUIRE_CUDA label allows forward compatibility only on other driver ranges than ${driver}`,
                minimumDriver: minimum,
                fix: `upgrade the driver to ${minimum} or newer, or use a driver branch the label names`,
            };
        }
        if (familyMinimumDriver(cuda) !== undefined || requirement?.alternatives.length) {
            return {
                verdict: "ok",
                reason: `${name} (CUDA ${cuda}) runs on driver ${driver} through forward compatibility (cuda-compat in the image; data-centre GPUs only, R${branch} is a supported branch); without it, it needs ≥ ${minimum}`,
                minimumDriver: minimum,
            };
        }
    }
    const driverCuda = cudaVersionOfDriver(driver);
    return {
        verdict: "incompatible",
        reason: `${name} needs NVIDIA driver ≥ ${minimum} for CUDA ${cuda}, but the node has ${driver}${driverCuda ? ` (CUDA ${driverCuda})` : ""}: containers would fail with "CUDA driver version is insufficient for CUDA runtime version"`,
        minimumDriver: minimum,
        fix: `use an image of CUDA ${driverCuda ?? "the driver's version"} or older, or upgrade the driver to ${minimum} or newer`,
    };
}

/** `cuda>=12.4 brand=tesla,driver>=470,driver<471 …`, as images carry in their `NVIDIA_REQUIRE_CUDA` label. */
export interface RequireCuda {
    cuda: string | undefined;
    /** Brand-specific driver ranges that satisfy the requirement on older data-centre drivers. */
    alternatives: Array<{ brand: string; min?: string; maxExclusive?: string }>;
}

/**
 * Reads an `NVIDIA_REQUIRE_CUDA` label. Each comma-separated condition must be `key op value` of libnvidia-container's
 * grammar (arch, brand, cuda, driver; = != < <= > >=); anything else is refused naming `field` (default the label's name:
 * a component passes its arg, `requireCuda`).
 */
export function parseRequireCuda(text: string, field = "NVIDIA_REQUIRE_CUDA"): RequireCuda {
    const result: RequireCuda = { cuda: undefined, alternatives: [] };
    const form = 'use the form "cuda>=12.4 brand=tesla,driver>=470,driver<471"';
    if (typeof text !== "string") throw new GpuConfigError(field, "is not a string", form);
    for (const clause of text.trim().split(/\s+/).filter(Boolean)) {
        const cuda = /^cuda>=(\d+\.\d+(?:\.\d+)?)$/.exec(clause);
        if (cuda) {
            result.cuda = cuda[1];
            continue;
        }
        const parts = clause.split(",");
        const brand = parts.find((p) => p.startsWith("brand="))?.slice(6);
        if (brand === undefined || !parts.every((p) => /^(?:arch|brand|cuda|driver)(?:=|!=|<|<=|>|>=)[A-Za-z0-9._-]+$/.test(p))) {
            throw new GpuConfigError(field, `cannot read the clause ${JSON.stringify(clause)}`, form);
        }
        const alternative: RequireCuda["alternatives"][number] = { brand };
        for (const p of parts) {
            const m = /^driver(>=|<)(\d+(?:\.\d+)*)$/.exec(p);
            if (m?.[1] === ">=") alternative.min = m[2];
            if (m?.[1] === "<") alternative.maxExclusive = m[2];
        }
        result.alternatives.push(alternative);
    }
    return result;
}

function inRange(driver: string, range: { min?: string; maxExclusive?: string }): boolean {
    return (range.min === undefined || atLeast(driver, range.min)) && (range.maxExclusive === undefined || compareVersions(driver, range.maxExclusive) < 0);
}
