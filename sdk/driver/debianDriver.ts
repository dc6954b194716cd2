/**
 * Debian's own NVIDIA driver (non-free: nvidia-driver 535.261.03 in bookworm, 550.163.01 in trixie), whose kernel module
 * DKMS builds on the host (issue 23). Debian's dkms postinst skips a kernel without headers and still succeeds, so the
 * step checks that a module was built before it holds anything: a half-installed driver is never held.
 */
import { KernelModuleType } from "./driverPlan";
import { ShellFragment, script, sh } from "../shell/shellScript";
import { HostSnapshot } from "../host/snapshot";
import { renderResult } from "../steps/renderResult";
import { fileStep } from "../steps/fileStep";
import { guardedFileStep } from "../steps/guardedFileStep";
import { PlanStep } from "../steps/planStep";

/** apt preferences pinning Debian's driver to the version (managed file, diffed at preview). */
export const DEBIAN_DRIVER_PREFERENCES = "/etc/apt/preferences.d/pulumi-nvidia-gpu-driver";

/**
 * Every package built from the driver's two source packages, at the pinned version. Without it apt takes each dependency
 * at its candidate: bookworm's nvidia-driver 535.261.03 wants nvidia-driver-libs (= 535.261.03-1), and apt picks
 * bookworm-security's 535.309.01 and gives up ("unmet dependencies"); the open module exists only at 535.261.03 there.
 */
export function debianDriverPreferences(version: string): string {
    return `Explanation: written by pulumi-nvidia-gpu: Debian's NVIDIA driver stays at ${version}, its dependencies included
Package: src:nvidia-graphics-drivers src:nvidia-open-gpu-kernel-modules
Pin: version ${version}-*
Pin-Priority: 1001
`;
}

/** The preferences file's step: guarded and diffed when the host was read, unguarded for `gpu-node script`. */
export function debianPreferencesStep(version: string, snapshot: HostSnapshot | undefined): PlanStep {
    const description = `pin Debian's driver packages at ${version} (apt preferences)`;
    const result = renderResult(DEBIAN_DRIVER_PREFERENCES, snapshot?.files[DEBIAN_DRIVER_PREFERENCES], debianDriverPreferences(version), [
        `src:nvidia-graphics-drivers, src:nvidia-open-gpu-kernel-modules pinned at ${version}`,
    ]);
    return snapshot === undefined ? fileStep("driver-apt-pin", description, result) : guardedFileStep("driver-apt-pin", description, result, snapshot);
}

/**
 * nvidia-driver and the DKMS module package of the chosen type. Both module packages depend on firmware-nvidia-gsp, the
 * GSP firmware at the driver's version (firmware-misc-nonfree holds nouveau's firmware, not the driver's).
 */
export function debianDriverPackages(modules: KernelModuleType): string[] {
    return ["nvidia-driver", modules === "open" ? "nvidia-open-kernel-dkms" : "nvidia-kernel-dkms"];
}

/** The packages the pin holds: the driver and its module. */
const heldOf = (packages: string[]) => packages;

/** Downloads (retried), installs once (a DKMS build is minutes, and fails the same way again), checks DKMS, holds. */
export function debianInstall(packages: string[], exact: string | undefined): ShellFragment {
    const held = heldOf(packages);
    const specs = packages.map((p) => (exact !== undefined && held.includes(p) ? `${p}=${exact}*` : p));
    const apt = sh`apt-get -o DPkg::Lock::Timeout=600 install -y -q --allow-downgrades --allow-change-held-packages`;
    return sh`export DEBIAN_FRONTEND=noninteractive
retry 3 ${apt} --download-only ${specs} || { log ${`error: ${specs.join(" ")} could not be downloaded: check that non-free and contrib (the open modules) are among the apt sources and that Debian carries that version`}; exit 31; }
if ! ${apt} ${specs}; then
    apt-mark unhold ${held} >/dev/null 2>&1 || true
    # The compiler's first error, so that the one line says why (trixie's 550.163.01-2 on 6.12.118: pci_resize_resource).
    first=$(grep -h -m 1 ': error: ' /var/lib/dkms/nvidia*/*/build/make.log 2>/dev/null | head -n 1 | sed 's|^/var/lib/dkms/[^/]*/[^/]*/build/||' | cut -c 1-300)
    log ${`error: ${held.join(" ")} did not install: DKMS could not build the NVIDIA module for kernel`} "$(uname -r)\${first:+: $first} (see /var/lib/dkms/*/*/build/make.log); nothing is held"
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
