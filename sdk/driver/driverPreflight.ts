import { Finding, Severity, finding } from "../host/preflight";
import { HostFacts } from "../host/hostFacts";
import { atLeast } from "../versions";

/** The oldest driver NVIDIA's Container Toolkit supports (its install guide). */
export const MINIMUM_DRIVER = "418.81.07";

/** What preflight needs to know of the driver the node is asked for. */
export interface DriverPreflightIntent {
    /** A driver install is planned (not skipped by the user). */
    installDriver: boolean;
    /** The driver comes as signed precompiled modules (Ubuntu `linux-modules-nvidia-*`), not built by DKMS. */
    signedDriverModules?: boolean;
    /** The pinned driver, when one is asked for (GpuNodeArgs `driver`). */
    driver?: { branch?: string; version?: string };
}

/** The driver asked for and the one loaded: supported by the toolkit, matching its library, installable on this host. */
export function driverFindings(facts: HostFacts, intent: DriverPreflightIntent): Finding[] {
    const findings: Finding[] = [];
    const add = (id: string, severity: Severity, message: string, fix: string) => findings.push(finding(id, severity, message, fix));
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
    return findings;
}
