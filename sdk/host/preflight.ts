import { atLeast } from "../versions";
import { HostFacts } from "./hostFacts";

/** NVIDIA's requirements (Container Toolkit install guide). */
export const MINIMUM_DOCKER = "18.09";
export const MINIMUM_DRIVER = "418.81.07";

/** Distributions NVIDIA publishes Container Toolkit packages for, by os-release ID. */
export const SUPPORTED_DISTROS: Readonly<Record<string, string[]>> = {
    ubuntu: ["20.04", "22.04", "24.04", "26.04"],
    debian: ["11", "12", "13"],
    rhel: ["8", "9", "10"],
    rocky: ["8", "9", "10"],
    almalinux: ["8", "9", "10"],
    centos: ["8", "9", "10"],
    ol: ["8", "9"],
    fedora: [],
    amzn: ["2", "2023"],
    sles: ["15"],
    "opensuse-leap": ["15"],
};

/**
 * How serious a finding is. A string enum in the "as const" form: Pulumi's schema sees an enum, and
 * TypeScript callers may write `Severity.Error` or the plain string `"error"`.
 */
export const Severity = {
    /** Stops the node's plan before anything runs. */
    Error: "error",
    /** Worth fixing; the plan goes on. */
    Warning: "warning",
    /** For information only. */
    Info: "info",
} as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** One preflight result: what is wrong and what to do. An `error` stops the node's plan. */
export interface Finding {
    /** Stable id, e.g. `docker-too-old`. */
    id: string;
    /** `error` (stops the plan), `warning` or `info`. */
    severity: Severity;
    /** What is wrong, naming the host's fact or the input at fault. */
    message: string;
    /** What to do about it. */
    fix: string;
}

/** A preflight rule of one domain (a runtime's, say): the findings it has for a host. */
export type PreflightRule = (facts: HostFacts) => Finding[];

/** What the node is asked to do, as far as preflight needs it. */
export interface PreflightIntent {
    /** A driver install is planned (not skipped by the user). */
    installDriver: boolean;
    /** The driver comes as signed precompiled modules (Ubuntu `linux-modules-nvidia-*`), not built by DKMS. */
    signedDriverModules?: boolean;
    /** The rules of the runtime that will be configured (its engine's `preflight`). */
    rules?: readonly PreflightRule[];
    /** The pinned driver, when one is asked for (GpuNodeArgs `driver`). */
    driver?: { branch?: string; version?: string };
    /** Services whose configuration the plan changes, so it restarts them (with systemctl). */
    restarts?: string[];
}

/** Pure checks of host facts against NVIDIA's support matrix and the known user pains. */
export function preflight(facts: HostFacts, intent: PreflightIntent): Finding[] {
    const findings: Finding[] = [];
    const add = (id: string, severity: Severity, message: string, fix: string) => findings.push({ id, severity, message, fix });

    const distro = distroSupport(facts);
    if (distro === "unsupported") {
        add(
            "unsupported-distro",
            "error",
            `${facts.os.prettyName || facts.os.id || "this OS"} is not a distribution NVIDIA publishes Container Toolkit packages for`,
            `use one of: ${Object.keys(SUPPORTED_DISTROS).join(", ")} (or WSL2)`,
        );
    } else if (distro === "untested-version") {
        add(
            "untested-distro-version",
            "warning",
            `${facts.os.id} ${facts.os.versionId} is not in NVIDIA's tested versions (${SUPPORTED_DISTROS[facts.os.id]?.join(", ")})`,
            "expect the toolkit to work, but pin versions and check the result",
        );
    }
    if (facts.packageManager === undefined) {
        add("no-package-manager", "error", "no apt-get, dnf or zypper found", "install the toolkit packages by hand, or use a supported distribution");
    }

    if (facts.docker?.desktop) {
        add(
            "docker-desktop",
            "error",
            "this Docker is Docker Desktop, whose daemon runs in its own VM",
            "configure GPU support in Docker Desktop (WSL2 backend), or use Docker Engine on the host",
        );
    }
    // The runtime's own rules (sdk/runtime): its daemon is there, in a version NVIDIA supports.
    for (const rule of intent.rules ?? []) findings.push(...rule(facts));
    if ((intent.restarts ?? []).length > 0 && !facts.systemd) {
        add(
            "no-systemd",
            "error",
            `the plan changes the configuration of ${intent.restarts!.join(", ")} and must restart it, but the host does not run systemd (the restart and its rollback use systemctl)`,
            "boot the host with systemd (on WSL2: [boot] systemd=true in /etc/wsl.conf), or set runtime: cdi to only write the CDI spec",
        );
    }

    const pinned = intent.driver;
    if (intent.installDriver && pinned?.version !== undefined && /^\d+(\.\d+)*$/.test(pinned.version) && !atLeast(pinned.version, MINIMUM_DRIVER)) {
        add(
            "driver-pin-too-old",
            "error",
            `driver.version ${pinned.version} is older than ${MINIMUM_DRIVER}, the oldest the Container Toolkit supports`,
            "pin a newer driver: driver.version 418.81.07 or later, or driver.branch (e.g. 580)",
        );
    } else if (
        intent.installDriver &&
        pinned?.branch !== undefined &&
        /^\d+$/.test(pinned.branch) &&
        Number(pinned.branch) < Number(MINIMUM_DRIVER.split(".")[0])
    ) {
        add(
            "driver-pin-too-old",
            "error",
            `driver.branch ${pinned.branch} is older than ${MINIMUM_DRIVER}, the oldest driver the Container Toolkit supports`,
            "pin a newer branch (driver.branch, e.g. 580)",
        );
    }

    const driver = facts.driver.loadedVersion ?? facts.gpus[0]?.driverVersion;
    if (driver !== undefined && !atLeast(driver, MINIMUM_DRIVER)) {
        // Only a warning when the plan installs a driver: it replaces this one.
        if (intent.installDriver && intent.driver !== undefined) {
            add(
                "driver-too-old",
                "warning",
                `NVIDIA driver ${driver} is older than ${MINIMUM_DRIVER}, the oldest the Container Toolkit supports`,
                "the plan installs the pinned driver; reboot the host to load it (driver.reboot: true does it)",
            );
        } else {
            add(
                "driver-too-old",
                "error",
                `NVIDIA driver ${driver} is older than ${MINIMUM_DRIVER}, the oldest the Container Toolkit supports`,
                "install a newer driver branch (set driver.branch, e.g. 580)",
            );
        }
    }
    if (facts.driver.loadedVersion && facts.driver.libraryVersion && facts.driver.loadedVersion !== facts.driver.libraryVersion) {
        add(
            "driver-library-mismatch",
            "warning",
            `the loaded driver is ${facts.driver.loadedVersion} but the library on disk is ${facts.driver.libraryVersion} ("Driver/library version mismatch")`,
            "reboot the host so the new kernel module loads; keep nvidia-* out of unattended upgrades",
        );
    }

    if (intent.installDriver) {
        if (facts.wsl2) {
            add(
                "wsl2-driver",
                "info",
                "WSL2 host: the driver install is skipped, because the driver lives on the Windows host",
                "install or update the NVIDIA driver on Windows; nothing to do in the Linux distribution",
            );
        } else {
            if (facts.pciDevices.length === 0 && facts.gpus.length === 0) {
                add(
                    "no-gpu",
                    "warning",
                    "no NVIDIA PCI device (vendor 0x10de) was found, yet a driver install is asked for",
                    "check that the GPU is attached (lspci), or leave driver unset for hosts without GPUs",
                );
            }
            if (facts.secureBoot === "enabled" && !intent.signedDriverModules) {
                add(
                    "secure-boot-unsigned",
                    "error",
                    'Secure Boot is on, and a DKMS-built driver module is unsigned: it would fail to load ("Key was rejected by service")',
                    "use Ubuntu's signed precompiled modules (driver.source: distro, on Ubuntu), or enrol a MOK key and sign DKMS modules, or turn Secure Boot off",
                );
            }
            if (!facts.kernelHeaders && !intent.signedDriverModules) {
                add(
                    "kernel-headers-missing",
                    "warning",
                    `no headers for the running kernel ${facts.kernel}: DKMS cannot build the driver module`,
                    `the driver plan installs linux-headers-${facts.kernel} (or kernel-devel); check that your repositories carry it`,
                );
            }
        }
    }

    const toolkitVersions = new Set(Object.values(facts.toolkitPackages));
    if (toolkitVersions.size > 1) {
        // A warning, not an error: installing all four at one version is what the plan does, so it fixes this host.
        add(
            "toolkit-mixed-versions",
            "warning",
            `the toolkit packages are at different versions: ${Object.entries(facts.toolkitPackages)
                .map(([p, v]) => `${p} ${v}`)
                .join(", ")}`,
            "the plan installs all four at toolkit.version, which fixes this",
        );
    }
    return findings;
}

function distroSupport(facts: HostFacts): "supported" | "untested-version" | "unsupported" {
    if (facts.wsl2) return "supported";
    const versions = SUPPORTED_DISTROS[facts.os.id];
    if (versions === undefined) {
        return facts.os.idLike.some((like) => ["debian", "ubuntu", "rhel", "fedora", "suse"].includes(like)) ? "untested-version" : "unsupported";
    }
    const major = facts.os.versionId.split(".")[0];
    if (versions.length === 0 || versions.includes(facts.os.versionId) || versions.includes(major)) return "supported";
    return "untested-version";
}

/**
 * Checks a workload's driver capabilities against the host's graphics facts: a graphics or video
 * workload on a host without the NVIDIA Vulkan/EGL files or the NVENC/NVDEC libraries gets warnings.
 */
export function workloadPreflight(facts: HostFacts, capabilities: readonly string[]): Finding[] {
    const all = capabilities.includes("all");
    const findings: Finding[] = [];
    const g = facts.graphics;
    if (all || capabilities.includes("graphics") || capabilities.includes("display")) {
        if (g.vulkanIcdFiles.length === 0 || g.eglVendorFiles.length === 0 || !g.glcore) {
            findings.push({
                id: "graphics-libraries-missing",
                severity: "warning",
                message: `the host lacks parts of the driver's graphics stack (Vulkan ICD: ${g.vulkanIcdFiles.length ? "yes" : "no"}, EGL vendor file: ${g.eglVendorFiles.length ? "yes" : "no"}, libnvidia-glcore: ${g.glcore ? "yes" : "no"})`,
                fix: "install the full driver (not a compute-only or headless package) so OpenGL and Vulkan work in containers",
            });
        }
    }
    if ((all || capabilities.includes("video")) && (!g.encode || !g.cuvid)) {
        findings.push({
            id: "video-libraries-missing",
            severity: "warning",
            message: `the host lacks NVENC/NVDEC libraries (libnvidia-encode: ${g.encode ? "yes" : "no"}, libnvcuvid: ${g.cuvid ? "yes" : "no"})`,
            fix: "install the driver's encode/decode libraries (e.g. libnvidia-encode-<branch> and libnvidia-decode-<branch> on Ubuntu)",
        });
    }
    return findings;
}
