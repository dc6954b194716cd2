/**
 * Debian's own NVIDIA driver (non-free: nvidia-driver 535.261.03 in bookworm, 550.163.01 in trixie), whose kernel module
 * DKMS builds on the host (issue 23). Debian's dkms postinst skips a kernel without headers and still succeeds, so the
 * step checks that a module was built before it holds anything: a half-installed driver is never held.
 */
import { KernelModuleType } from "./driverPlan";
import { ShellFragment, script, sh } from "../shell/shellScript";

/** nvidia-driver, the DKMS module package of the chosen type, and the GSP firmware (open modules need it). */
export function debianDriverPackages(modules: KernelModuleType): string[] {
    return ["nvidia-driver", modules === "open" ? "nvidia-open-kernel-dkms" : "nvidia-kernel-dkms", "firmware-misc-nonfree"];
}

/** The packages the pin holds: the driver and its module, not the firmware. */
const heldOf = (packages: string[]) => packages.filter((p) => p !== "firmware-misc-nonfree");

/** Downloads (retried), installs once (a DKMS build is minutes, and fails the same way again), checks DKMS, holds. */
export function debianInstall(packages: string[], exact: string | undefined): ShellFragment {
    const held = heldOf(packages);
    const specs = packages.map((p) => (exact !== undefined && held.includes(p) ? `${p}=${exact}*` : p));
    const apt = sh`apt-get -o DPkg::Lock::Timeout=600 install -y -q --allow-downgrades --allow-change-held-packages`;
    return sh`export DEBIAN_FRONTEND=noninteractive
retry 3 ${apt} --download-only ${specs} || { log ${`error: ${specs.join(" ")} could not be downloaded: check that non-free is among the apt sources and that Debian carries that version`}; exit 31; }
if ! ${apt} ${specs}; then
    apt-mark unhold ${held} >/dev/null 2>&1 || true
    log ${`error: ${held.join(" ")} did not install: DKMS could not build the NVIDIA module for kernel`} "$(uname -r) (see /var/lib/dkms/*/*/build/make.log); nothing is held"
    exit 34
fi
if ! dkms status -k "$(uname -r)" 2>/dev/null | grep -q '^nvidia.*: installed'; then
    apt-mark unhold ${held} >/dev/null 2>&1 || true
    if [ ! -d "/lib/modules/$(uname -r)/build" ]; then
        log "error: DKMS built no NVIDIA module: linux-headers-$(uname -r) is not installed; install it (or boot a kernel Debian has headers for) and run again"
    else
        log "error: DKMS built no NVIDIA module for kernel $(uname -r) (see dkms status and /var/lib/dkms/*/*/build/make.log); nothing is held"
    fi
    exit 34
fi
apt-mark hold ${held} >/dev/null`;
}

/**
 * Destroy: a production host keeps its driver (removing it stops every GPU workload), so only the pin's hold goes.
 * With `purge` (driver.purgeOnDestroy) the driver and its module packages are purged, with what only they needed.
 */
export function debianUndo(packages: string[], purge: boolean): string {
    const held = heldOf(packages);
    if (!purge) {
        return script(
            sh`apt-mark unhold ${held} >/dev/null 2>&1 || true`,
            sh`echo ${`kept: ${held.join(" ")} stay installed, no longer held (driver.purgeOnDestroy: true removes them)`}`,
        );
    }
    return script(
        sh`apt-mark unhold ${held} >/dev/null 2>&1 || true`,
        sh`DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y -q ${held}`,
        sh`DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 autoremove --purge -y -q`,
        sh`echo ${`purged: ${held.join(" ")}`}`,
    );
}
