import { GpuInfo } from "../host/hostFacts";

/**
 * The CDI device names `nvidia-ctk cdi generate` makes for these GPUs with its default strategies
 * (index and UUID, plus `all`), sorted as `nvidia-ctk cdi list` prints them. MIG devices are not included.
 */
export function expectedCdiDevices(gpus: readonly GpuInfo[], kind = "nvidia.com/gpu"): string[] {
    const names = gpus.flatMap((g) => [String(g.index), g.uuid]);
    return [...names, "all"].map((n) => `${kind}=${n}`).sort();
}
