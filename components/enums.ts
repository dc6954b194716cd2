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
