import { GpuConfigError } from "../errors";

/** Driver capabilities the Container Toolkit can inject (`NVIDIA_DRIVER_CAPABILITIES`). */
export const DRIVER_CAPABILITIES = ["compute", "utility", "graphics", "video", "display", "compat32", "ngx"] as const;
export type DriverCapability = (typeof DRIVER_CAPABILITIES)[number];

/** The toolkit's default for CUDA images. */
export const DEFAULT_CAPABILITIES: readonly DriverCapability[] = ["compute", "utility"];

/** Named defaults for common workloads; every field can still be overridden. */
export const WORKLOAD_PRESETS = {
    /** OpenGL/Vulkan rendering; compute for CUDA/OptiX interop, which renderers use. */
    render: ["graphics", "display", "utility", "compute"],
    /**
     * OpenCL: `compute` brings libnvidia-opencl.so (libnvidia-container's compute list; CDI specs hold every driver
     * library). The ICD /etc/OpenCL/vendors/nvidia.icd: toolkit 1.20's CDI specs (cdi, jit-cdi) always carry the host's;
     * its legacy-mode runtime mounts it only with graphics or display (internal/modifier/graphics.go); `--gpus` never.
     */
    opencl: ["compute", "utility", "graphics"],
    /** NVENC/NVDEC transcoding. */
    video: ["video", "compute", "utility"],
    /** A packaged real-time engine app with pixel streaming (an Unreal Engine runtime container). */
    "unreal-runtime": ["graphics", "video", "utility"],
    /** Editor and compiler containers of a real-time engine. */
    "unreal-dev": ["graphics", "video", "utility", "compute"],
} as const satisfies Record<string, readonly DriverCapability[]>;
export type WorkloadPreset = keyof typeof WORKLOAD_PRESETS;

/**
 * The capabilities the user asked for (a list or a preset), validated, or undefined when neither was given: then
 * nothing is sent and the image's own NVIDIA_DRIVER_CAPABILITIES (or the toolkit's compute,utility) applies.
 */
export function requestedCapabilities(requested: readonly string[] | undefined, preset?: string, field = "driverCapabilities"): string[] | undefined {
    if (requested === undefined && preset === undefined) return undefined;
    return driverCapabilities(requested, preset, field);
}

/** What Docker's `nvidia` device driver accepts in `--gpus capabilities=…` (moby daemon/nvidia_linux.go allNvidiaCaps). */
export const DOCKER_GPUS_CAPABILITIES: readonly string[] = ["compute", "compat32", "graphics", "utility", "video", "display"];

/**
 * Validates a capability list (`["all"]` allowed) and returns it in the toolkit's order, deduplicated.
 * Unknown names are refused with the supported list.
 */
export function driverCapabilities(requested: readonly string[] | undefined, preset?: string, field = "driverCapabilities"): string[] {
    if (preset !== undefined && !(preset in WORKLOAD_PRESETS)) {
        throw new GpuConfigError("preset", `${JSON.stringify(preset)} is not a workload preset`, `use one of: ${Object.keys(WORKLOAD_PRESETS).join(", ")}`);
    }
    const list = requested ?? (preset !== undefined ? WORKLOAD_PRESETS[preset as WorkloadPreset] : DEFAULT_CAPABILITIES);
    if (list.length === 0) throw new GpuConfigError(field, "is empty", `list capabilities from: ${DRIVER_CAPABILITIES.join(", ")}, or "all"`);
    if (list.includes("all")) {
        if (list.length > 1) throw new GpuConfigError(field, '"all" cannot be combined with other capabilities', 'give "all" alone');
        return ["all"];
    }
    for (const c of list) {
        if (!(DRIVER_CAPABILITIES as readonly string[]).includes(c)) {
            throw new GpuConfigError(field, `${JSON.stringify(c)} is not a driver capability`, `use any of: ${DRIVER_CAPABILITIES.join(", ")}, or "all"`);
        }
    }
    return DRIVER_CAPABILITIES.filter((c) => list.includes(c));
}

/** The needs of a capability list that a host's graphics facts can fail. */
export function needsGraphicsLibraries(capabilities: readonly string[]): { graphics: boolean; video: boolean } {
    const all = capabilities.includes("all");
    return { graphics: all || capabilities.includes("graphics") || capabilities.includes("display"), video: all || capabilities.includes("video") };
}
