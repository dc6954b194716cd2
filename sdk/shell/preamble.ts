import { ShellFragment, sh } from "./shellScript";

/**
 * Shell functions shared by the plan scripts: retries for transient download errors and waiting
 * for a package-manager lock held by another process (unattended-upgrades, cloud-init).
 */
export const PREAMBLE: ShellFragment = sh`log() { printf '%s\\n' "$*" >&2; }
# retry N CMD...: run CMD up to N times, 5 s apart, for transient network errors.
retry() {
    tries=$1; shift; n=1
    until "$@"; do
        [ "$n" -ge "$tries" ] && return 1
        log "retrying ($n/$tries): $*"; n=$((n + 1)); sleep 5
    done
}
# busy_package_manager: names a running dpkg/apt/dnf/zypper process other than this script's, if any.
busy_package_manager() {
    for comm in /proc/[0-9]*/comm; do
        pid=\${comm#/proc/}; pid=\${pid%/comm}
        [ "$pid" = "$$" ] && continue
        name=$(cat "$comm" 2>/dev/null) || continue
        case "$name" in apt|apt-get|dpkg|unattended-upgr|dnf|yum|zypper|rpm) echo "$name ($pid)"; return 0 ;; esac
    done
    return 1
}
# wait_for_lock: wait up to 10 minutes while another package manager runs (unattended-upgrades, cloud-init).
wait_for_lock() {
    waited=0
    while holder=$(busy_package_manager); do
        [ "$waited" -ge 600 ] && { log "error: $holder still holds the package manager after 10 minutes; stop it or try again later"; return 1; }
        [ "$waited" -eq 0 ] && log "waiting for $holder to finish"
        sleep 3; waited=$((waited + 3))
    done
}`;
