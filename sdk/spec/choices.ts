/*
 * Every set of choices a node's spec has, written once. Each is a TypeScript string enum, which Pulumi's schema
 * analyzer reads as an enum with each member's doc (an "as const" object would do too, but its literal types are
 * shared: the analyzer then orders `cdi` of RuntimeMode by where `cdi` of ContainerRuntime was declared). The
 * plain-string type (`Runtime`: `"docker" | …`) and the list (for validation, zod and the CLI's choices) derive from it.
 */

/** Container runtimes a node can be set up for (string enums, so the args fit a Pulumi package schema). */
export enum ContainerRuntime {
    /** Rootful Docker: /etc/docker/daemon.json. */
    Docker = "docker",
    /** Rootless Docker of one user: ~/.config/docker/daemon.json and the CDI spec; the host-wide `no-cgroups` is left alone. */
    DockerRootless = "docker-rootless",
    /** containerd: a drop-in in /etc/containerd/conf.d and an `imports` entry in config.toml. */
    Containerd = "containerd",
    /** CRI-O: a drop-in in /etc/crio/crio.conf.d. */
    Crio = "crio",
    /** No runtime config: only the CDI spec, for Podman and other CDI-native runtimes. */
    Cdi = "cdi",
    /** Podman: the CDI spec, and podman checked at preview; `dockerTarget()` then runs containers through `podman run`. */
    Podman = "podman",
}

/** Which kernel modules of the NVIDIA driver to install. */
export enum KernelModules {
    /** NVIDIA's open kernel modules: required on Blackwell, recommended from Turing on. */
    Open = "open",
    /** The proprietary kernel modules, for GPUs before Turing. */
    Proprietary = "proprietary",
}

/** Where the driver's packages come from. */
export enum DriverSource {
    /** The distribution's packages (Ubuntu's signed precompiled modules, Debian non-free). */
    Distro = "distro",
    /** NVIDIA's CUDA repository. */
    CudaRepo = "cuda-repo",
}

/** Whether a node manages NVIDIA Fabric Manager (NVSwitch HGX and DGX hosts). */
export enum FabricManager {
    /**
     * Decide from the host: NVSwitch devices (or an HGX B200/B300 NVLink 5 fabric) → install; a fabric already
     * Completed without a local NVSwitch (a VM guest whose host runs Fabric Manager) → none.
     */
    Auto = "auto",
    /** Install and verify it even where the probe sees no NVSwitch. */
    Install = "install",
    /** Never install or touch it. */
    Skip = "skip",
}

/**
 * How the NVIDIA Container Runtime injects GPUs into a container: `nvidia-container-runtime.mode` in
 * /etc/nvidia-container-runtime/config.toml.
 */
export enum RuntimeMode {
    /**
     * NVIDIA's default: the runtime decides per container. Toolkit ≥ 1.18 resolves it to `jit-cdi` (to `csv` on
     * Tegra, to `cdi` for a container that names only CDI devices); older toolkits to `legacy`.
     */
    Auto = "auto",
    /** A CDI spec generated in memory for each container's devices (toolkit ≥ 1.18). */
    JitCdi = "jit-cdi",
    /** The devices of the CDI specs in /etc/cdi and /var/run/cdi (toolkit ≥ 1.12). */
    Cdi = "cdi",
    /** nvidia-container-cli through the prestart hook; the only mode that checks `NVIDIA_REQUIRE_CUDA`. Deprecated since 1.18. */
    Legacy = "legacy",
}

/** How the device plugin and GPU Feature Discovery expose MIG devices: NVIDIA's `MIG_STRATEGY`. */
export enum MigStrategy {
    /** MIG devices are not exposed: every GPU is one `nvidia.com/gpu`, and a MIG-enabled GPU is unusable. */
    None = "none",
    /** Every GPU of a node has MIG enabled with instances of one profile; each instance is one `nvidia.com/gpu`. */
    Single = "single",
    /** Instances are exposed by profile, as `nvidia.com/mig-<profile>` (e.g. `nvidia.com/mig-1g.18gb`); full GPUs stay `nvidia.com/gpu`. */
    Mixed = "mixed",
}

/** A string enum's values as a non-empty tuple of plain strings, in declaration order. */
function valuesOf<T extends string>(choices: Record<string, T>): readonly [`${T}`, ...Array<`${T}`>] {
    return Object.values(choices) as unknown as readonly [`${T}`, ...Array<`${T}`>];
}

/** The container runtimes a node can be set up for. `cdi` only writes the CDI spec (Podman, CDI-native runtimes). */
export const RUNTIMES = valuesOf(ContainerRuntime);
export type Runtime = `${ContainerRuntime}`;
/** The injection modes a plan may set (`csv` is Tegra's, chosen there by `auto`). */
export const RUNTIME_MODES = valuesOf(RuntimeMode);
export type RuntimeModeName = `${RuntimeMode}`;
export const DRIVER_SOURCES = valuesOf(DriverSource);
export type DriverSourceName = `${DriverSource}`;
export const KERNEL_MODULE_TYPES = valuesOf(KernelModules);
export type KernelModuleType = `${KernelModules}`;
export const FABRIC_MANAGER_MODES = valuesOf(FabricManager);
export type FabricManagerMode = `${FabricManager}`;
export const MIG_STRATEGIES = valuesOf(MigStrategy);
