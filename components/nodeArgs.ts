import * as pulumi from "@pulumi/pulumi";
import { DriverSource, KernelModules, RuntimeMode } from "../sdk/spec/choices";

/*
 * The args a node's parts share: GpuNode takes them whole, NvidiaDriver, ContainerToolkit and KubernetesGpuSupport
 * extend or name them. Here, not in gpuNode.ts, so that no part imports the composite.
 */

/** The NVIDIA driver to install. Exactly one of `branch` or `version`. */
export interface DriverArgs {
    /** Driver branch, e.g. `580`, kept on its newest release. Mutually exclusive with `version`. */
    branch?: pulumi.Input<string>;
    /** Exact driver version, e.g. `580.95.05`. Mutually exclusive with `branch`. */
    version?: pulumi.Input<string>;
    /** Kernel modules. Default `open` (required on Blackwell, recommended from Turing on). */
    kernelModules?: pulumi.Input<KernelModules>;
    /** Where packages come from. Default `distro` on Ubuntu (signed precompiled modules), `cuda-repo` elsewhere. */
    source?: pulumi.Input<DriverSource>;
    /** Ubuntu only: the `-server` (data-centre) flavour. Default true. */
    server?: pulumi.Input<boolean>;
    /** Mirror of NVIDIA's CUDA repository, for air-gapped hosts. */
    cudaRepoUrl?: pulumi.Input<string>;
    /** Package names to install instead of the defaults. */
    packages?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Reboot the host when the installed driver is not the loaded one; the next step waits for SSH: up to
     * connection.dialErrorLimit tries (30 by default, 2 to 10 min); raise it for servers that take longer to boot.
     * Default false: `rebootPending` reports it.
     */
    reboot?: pulumi.Input<boolean>;
    /**
     * What destroy does with the driver. Default false: the driver stays installed (removing it stops every GPU
     * workload on the host) and only the pin's hold is released. True: destroy purges the driver packages (Debian's
     * own driver, `source: distro` on Debian).
     */
    purgeOnDestroy?: pulumi.Input<boolean>;
}

/** The NVIDIA Container Toolkit to install: four packages pinned to one version. */
export interface ToolkitArgs {
    /** Version of all four packages, with the package release. Default `1.20.0-1`. */
    version?: pulumi.Input<string>;
    /** Also enable NVIDIA's experimental channel. Default false. */
    experimental?: pulumi.Input<boolean>;
    /** Repository base URL, for mirrors and air-gapped setups. Default `https://nvidia.github.io/libnvidia-container`. */
    repoUrl?: pulumi.Input<string>;
    /** Signing key URL. Default `<repoUrl>/gpgkey`. */
    keyUrl?: pulumi.Input<string>;
    /** Fingerprint the key must have. Default NVIDIA's (`C95B321B61E88C1809C4F759DDCAE044F796ECB0`). */
    keyFingerprint?: pulumi.Input<string>;
    /**
     * How the NVIDIA runtime injects GPUs (`nvidia-container-runtime.mode` in /etc/nvidia-container-runtime/config.toml):
     * `auto`, `jit-cdi` (toolkit ≥ 1.18), `cdi` (≥ 1.12) or `legacy`. Default: the host's setting is left as it is
     * (the package's is `auto`, which toolkit ≥ 1.18 resolves to `jit-cdi`, older toolkits to `legacy`); the plan
     * shows the mode in effect. In `jit-cdi` and `cdi` the runtime no longer refuses an image whose
     * `NVIDIA_REQUIRE_CUDA` the driver does not meet (NVIDIA/nvidia-container-toolkit#1470): DockerGpuContainer checks
     * images against the driver at preview instead. With `cdi` or `jit-cdi`, `docker run --gpus` without the nvidia
     * runtime fails (NVIDIA's hook runs only in legacy mode).
     */
    mode?: pulumi.Input<RuntimeMode>;
}

/** A node's MIG layout, in the style of mig-parted's configs. */
export interface MigLayoutArgs {
    /** One entry per group of GPUs. */
    devices: pulumi.Input<pulumi.Input<MigDeviceLayoutArgs>[]>;
    /** systemd units that hold the GPUs, stopped while MIG changes and started again after. Default: DCGM and its exporter. */
    stopServices?: pulumi.Input<pulumi.Input<string>[]>;
}

/** The MIG layout of some of a node's GPUs. */
export interface MigDeviceLayoutArgs {
    /** GPU indexes (`"0"`) or UUIDs. Default: every GPU no other entry names. */
    gpus?: pulumi.Input<pulumi.Input<string>[]>;
    /** MIG mode. Default: true when `profiles` is given, else false. */
    enabled?: pulumi.Input<boolean>;
    /** GPU instance profiles and how many of each, e.g. `{ "3g.71gb": 2 }`; each gets one full compute instance. Refused when the GPU lacks a profile, naming those it has. */
    profiles?: pulumi.Input<Record<string, pulumi.Input<number>>>;
}
