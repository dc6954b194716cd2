/**
 * The hold of a driver installed from NVIDIA's CUDA repository on dnf and zypper hosts (issue 23): dnf's versionlock
 * (the plugin RHEL ships as python3-dnf-plugin-versionlock) and zypper's locks. A step that cannot set the hold fails,
 * rather than report a held driver that is not; destroy keeps the driver and releases only the hold, as on apt hosts.
 */
import { ShellFragment, script, sh } from "../shell/shellScript";

const DNF_LOCKED = ["nvidia-driver*", "kmod-nvidia*"];
// The driver's packages only (NVIDIA's G06 driver packages, cuda-drivers): a lock on nvidia-* also held
// nvidia-container-toolkit, and zypper refused the toolkit's install ("remove lock to allow installation").
const ZYPPER_LOCKED = ["nvidia-*G06*", "cuda-drivers*"];

/** dnf: its own earlier versionlock goes before an install, or dnf excludes the update it asks for. */
export const DNF_RELEASE: ShellFragment = sh`if dnf -q versionlock --help >/dev/null 2>&1; then dnf versionlock delete ${DNF_LOCKED} >/dev/null 2>&1 || true; fi`;

/** dnf: versionlock the driver, installing the plugin where it is missing; no plugin is an error, not a skipped hold. */
export const DNF_HOLD: ShellFragment = sh`if ! dnf -q versionlock --help >/dev/null 2>&1 && ! dnf install -y python3-dnf-plugin-versionlock >/dev/null 2>&1; then
    log "error: dnf's versionlock plugin (python3-dnf-plugin-versionlock) is not installed and could not be installed, so the driver cannot be held; install it and run again"
    exit 35
fi
dnf versionlock add ${DNF_LOCKED} >/dev/null`;

export const ZYPPER_HOLD: ShellFragment = sh`zypper --non-interactive addlock ${ZYPPER_LOCKED} >/dev/null`;
/** zypper: its own earlier locks go before an install, or zypper refuses the update. */
export const ZYPPER_RELEASE: ShellFragment = sh`zypper --non-interactive removelock ${ZYPPER_LOCKED} >/dev/null 2>&1 || true`;

/** Destroy: the driver stays (removing it stops every GPU workload on the host); only its hold goes. */
export function rpmUndo(family: "rhel" | "suse"): string {
    return family === "rhel"
        ? script(
              sh`if dnf -q versionlock --help >/dev/null 2>&1; then dnf versionlock delete ${DNF_LOCKED} >/dev/null 2>&1 || true; fi`,
              sh`echo "kept: the NVIDIA driver stays installed, no longer versionlocked"`,
          )
        : script(
              sh`zypper --non-interactive removelock ${ZYPPER_LOCKED} >/dev/null 2>&1 || true`,
              sh`echo "kept: the NVIDIA driver stays installed, no longer locked"`,
          );
}
