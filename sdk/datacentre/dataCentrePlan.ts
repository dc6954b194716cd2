import { GpuConfigError } from "../errors";
import { FABRIC_MANAGER_MODES, FabricDriverTarget, FabricManagerMode, fabricDriverTarget, fabricNeed, isDataCentreGpu } from "./dataCentrePreflight";
import { HostSnapshot } from "../host/snapshot";
import { PREAMBLE } from "../shell/preamble";
import { Finding } from "../host/preflight";
import { ShellFragment, script, sh } from "../shell/shellScript";
import { validate, validateChoice } from "../validate";
import { MigLayoutSpec, migLayoutPlan } from "./migLayout";
import { PlanStep } from "../steps/planStep";

/** Marks a Fabric Manager package change, so the service step restarts the daemon once (tmpfs: gone after a reboot). */
export const FABRIC_MANAGER_RESTART_MARK = "/run/pulumi-nvidia-gpu/fabricmanager-restart";
/** How long the service step waits for every GPU's fabric to reach Completed / Success. */
export const FABRIC_TIMEOUT_SECONDS = 300;
const IB_UMAD_CONF = "/etc/modules-load.d/nvidia-fabric-ib_umad.conf";

/** The data-centre part of a node: Fabric Manager, nvidia-persistenced and a MIG layout. */
export interface DataCentreSpec {
    /** Default `auto`: decided from the NVSwitch devices and the fabric state. */
    fabricManager?: FabricManagerMode;
    /** Enable nvidia-persistenced on data-centre GPUs. Default true. */
    persistenced?: boolean;
    /** The MIG layout to apply; `undefined` leaves MIG as it is. */
    migLayout?: MigLayoutSpec;
    /** The driver the plan installs, when it installs one (NodeSpec `driver`). */
    driver?: { branch?: string; version?: string; source?: string };
}

/**
 * The data-centre steps, run after the driver steps and before the toolkit and runtime steps: Fabric Manager at
 * exactly the driver's version, held, started and verified (fabric Completed) on NVSwitch hosts; nvidia-persistenced on
 * data-centre GPUs; the MIG layout. Facts from a probe that predates these queries plan nothing but an explicit MIG
 * layout or `fabricManager: install`. Preflight (sdk/datacentre/dataCentrePreflight.ts) has refused what cannot be planned.
 */
export function dataCentrePlan(snapshot: HostSnapshot, spec: DataCentreSpec): { steps: PlanStep[]; notes: Finding[] } {
    const { facts } = snapshot;
    validateDataCentreSpec(spec);
    const mode = validateChoice(spec.fabricManager ?? FabricManagerMode.Auto, FABRIC_MANAGER_MODES, "fabricManager");
    const steps: PlanStep[] = [];
    const notes: Finding[] = [];
    const need = fabricNeed(facts, mode);
    if (need.kind === "fabric-manager" && !facts.wsl2) {
        const target = fabricDriverTarget(facts, spec.driver);
        if (target === undefined) throw new GpuConfigError("fabricManager", "needs the driver's version, which is unknown", "set driver.version");
        notes.push({
            id: "fabric-manager-planned",
            severity: "info",
            message: `Fabric Manager${need.nvlsm ? " and nvlsm" : ""} planned: ${need.reason}`,
            fix: `pinned to the driver (${target.origin} ${target.want}); set fabricManager to skip to leave it alone`,
        });
        const pm = validateChoice(facts.packageManager === "yum" ? "dnf" : (facts.packageManager ?? ""), ["apt", "dnf", "zypper"] as const, "packageManager");
        const source =
            spec.driver !== undefined
                ? (spec.driver.source ?? (facts.os.id === "ubuntu" ? "distro" : "cuda-repo"))
                : Object.keys(facts.driverPackages).some((p) => /^nvidia-driver-\d+/.test(p))
                  ? "distro"
                  : "cuda-repo";
        steps.push(fabricManagerPackagesStep(pm, target, source === "distro"));
        if (need.nvlsm) steps.push(nvlsmStep(pm));
        steps.push(fabricManagerServiceStep(target));
    }
    const persistenced = spec.persistenced ?? true;
    if (persistenced && facts.systemd && !facts.wsl2 && facts.dataCentre?.probed && facts.gpus.some(isDataCentreGpu)) steps.push(persistencedStep());
    if (spec.migLayout !== undefined) {
        const mig = migLayoutPlan(facts, spec.migLayout);
        steps.push(...mig.steps);
        notes.push({
            id: "mig-layout",
            severity: "info",
            message: `MIG layout: ${mig.preview.join("; ")}`,
            fix: "the mig-layout step stops the listed GPU services, applies it, regenerates the CDI specs and verifies",
        });
    }
    return { steps, notes };
}

/**
 * Shell variable `version`, the driver version Fabric Manager must have: the pinned version, or the
 * installed driver's version within the pinned branch, read from libnvidia-ml on disk (what the next boot loads).
 */
function driverVersionOnHost(target: FabricDriverTarget): ShellFragment {
    return sh`want=${target.want}
library=""
for f in /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.* /usr/lib64/libnvidia-ml.so.* /usr/lib/aarch64-linux-gnu/libnvidia-ml.so.* /usr/local/nvidia/lib64/libnvidia-ml.so.*; do
    v=\${f##*libnvidia-ml.so.}
    case "$v" in [0-9]*.[0-9]*) library=$v ;; esac
done
case "$want" in
    *.) version=$library
        case "$version" in "$want"*) ;; *) log "error: the installed driver is \${library:-missing}, not of the pinned branch \${want%.}: Fabric Manager must match the driver exactly"; exit 40 ;; esac ;;
    *) version=$want
        if [ -n "$library" ] && [ "$library" != "$want" ]; then log "error: the driver library on disk is $library, not the pinned $want: Fabric Manager must match the driver exactly"; exit 41; fi ;;
esac`;
}

const LOADED = sh`loaded=$(sed -n 's/.*Kernel Module.*  \\([0-9][0-9.]*\\)  .*/\\1/p' /proc/driver/nvidia/version 2>/dev/null | head -n 1)`;

/**
 * Fabric Manager at exactly the driver's version, held so that no upgrade moves one without the other
 * (NVIDIA/gpu-driver-container#735 shipped 590.48.01 beside driver 580.126.09 for want of a hold). From branch 580
 * NVIDIA's repositories name it `nvidia-fabricmanager` (rpm: before 580 `nvidia-fabric-manager`); Ubuntu's archive
 * keeps `nvidia-fabricmanager-<branch>`.
 */
function fabricManagerPackagesStep(pm: "apt" | "dnf" | "zypper", target: FabricDriverTarget, distroFirst: boolean): PlanStep {
    const mark = sh`mkdir -p /run/pulumi-nvidia-gpu && : > ${FABRIC_MANAGER_RESTART_MARK}`;
    const body: Record<typeof pm, ShellFragment> = {
        apt: sh`names=${distroFirst ? sh`"nvidia-fabricmanager-$branch nvidia-fabricmanager"` : sh`"nvidia-fabricmanager nvidia-fabricmanager-$branch"`}
held=$(apt-mark showhold 2>/dev/null)
for name in $names; do
    have=$(dpkg-query -W -f '\${Version} \${db:Status-Abbrev}' "$name" 2>/dev/null || true)
    case "$have" in "$version"-*" ii"*)
        if printf '%s\\n' "$held" | grep -qx "$name"; then echo "unchanged: $name \${have%% *} held"; exit 0; fi ;;
    esac
done
wait_for_lock
apt-get -o DPkg::Lock::Timeout=600 update -qq
pkg=""; candidate=""
for name in $names; do
    candidate=$(apt-cache madison "$name" 2>/dev/null | awk -v w="$version-" 'index($3, w) == 1 { print $3; exit }')
    if [ -n "$candidate" ]; then pkg=$name; break; fi
done
[ -n "$pkg" ] || { log "error: no Fabric Manager package at version $version-* in the configured repositories (looked for: $names); add NVIDIA's CUDA repository or pick a driver version that has one"; exit 46; }
for name in $names; do apt-mark unhold "$name" >/dev/null 2>&1 || true; done
DEBIAN_FRONTEND=noninteractive retry 3 apt-get -o DPkg::Lock::Timeout=600 install -y -q --allow-downgrades --allow-change-held-packages "$pkg=$candidate"
apt-mark hold "$pkg" >/dev/null
${mark}
echo "changed: $pkg $candidate installed and held"`,
        dnf: sh`if [ "$branch" -ge 580 ]; then pkg=nvidia-fabricmanager; else pkg=nvidia-fabric-manager; fi
have=$(rpm -q --qf '%{VERSION}' "$pkg" 2>/dev/null || true)
if [ "$have" = "$version" ] && dnf -q versionlock list 2>/dev/null | grep -F "$pkg-" | grep -qF ":$version-"; then echo "unchanged: $pkg $version locked"; exit 0; fi
wait_for_lock
dnf -q versionlock --help >/dev/null 2>&1 || retry 3 dnf install -y python3-dnf-plugin-versionlock
dnf -q versionlock delete "$pkg" >/dev/null 2>&1 || true
if [ -n "$have" ] && rpm -q "$pkg" >/dev/null 2>&1; then retry 3 dnf install -y "$pkg-$version" || retry 3 dnf downgrade -y "$pkg-$version"; else retry 3 dnf install -y "$pkg-$version"; fi
[ "$(rpm -q --qf '%{VERSION}' "$pkg")" = "$version" ] || { log "error: $pkg is not at $version after the install; is NVIDIA's CUDA repository configured?"; exit 46; }
dnf -q versionlock add "$pkg-$version" >/dev/null
${mark}
echo "changed: $pkg $version installed and locked"`,
        zypper: sh`if [ "$branch" -ge 580 ]; then pkg=nvidia-fabricmanager; else pkg=nvidia-fabric-manager; fi
have=$(rpm -q --qf '%{VERSION}' "$pkg" 2>/dev/null || true)
if [ "$have" = "$version" ] && zypper --non-interactive locks 2>/dev/null | grep -qw "$pkg"; then echo "unchanged: $pkg $version locked"; exit 0; fi
wait_for_lock
zypper --non-interactive --gpg-auto-import-keys refresh >/dev/null
zypper --non-interactive removelock "$pkg" >/dev/null 2>&1 || true
candidate=$(zypper --non-interactive --no-refresh search -s --match-exact -t package "$pkg" | awk -F'|' -v w="$version-" '{ v = $4; gsub(/ /, "", v) } index(v, w) == 1 { print v; exit }')
[ -n "$candidate" ] || { log "error: $pkg has no version $version-* in the configured repositories; add NVIDIA's CUDA repository"; exit 46; }
retry 3 zypper --non-interactive --gpg-auto-import-keys install -y --oldpackage "$pkg=$candidate"
zypper --non-interactive addlock "$pkg" >/dev/null
${mark}
echo "changed: $pkg $candidate installed and locked"`,
    };
    const pinned = target.origin === "driver.branch" ? `the installed driver's version (branch ${target.want.slice(0, -1)})` : target.want;
    return {
        name: "fabric-manager-packages",
        description: `NVIDIA Fabric Manager at exactly ${pinned}, held (${target.origin})`,
        script: script(PREAMBLE, driverVersionOnHost(target), sh`branch=\${version%%.*}`, body[pm]),
        changes: [`package nvidia-fabricmanager (${target.origin === "driver.branch" ? `${target.want}*` : target.want}, held)`],
        root: true,
    };
}

/** NVLink 5 (HGX B200/B300): the NVLink subnet manager, held, and ib_umad, through which Fabric Manager reaches the switches. */
function nvlsmStep(pm: "apt" | "dnf" | "zypper"): PlanStep {
    const install: Record<typeof pm, ShellFragment> = {
        apt: sh`installed() { dpkg-query -W -f '\${db:Status-Abbrev}' nvlsm 2>/dev/null | grep -q '^ii' && apt-mark showhold | grep -qx nvlsm; }
if ! installed; then
    wait_for_lock
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive retry 3 apt-get -o DPkg::Lock::Timeout=600 install -y -q nvlsm
    apt-mark hold nvlsm >/dev/null
    state=changed
fi`,
        dnf: sh`if ! rpm -q nvlsm >/dev/null 2>&1; then
    wait_for_lock
    retry 3 dnf install -y nvlsm
    if dnf -q versionlock --help >/dev/null 2>&1; then dnf -q versionlock add nvlsm >/dev/null; fi
    state=changed
fi`,
        zypper: sh`if ! rpm -q nvlsm >/dev/null 2>&1; then
    wait_for_lock
    retry 3 zypper --non-interactive --gpg-auto-import-keys install -y nvlsm
    zypper --non-interactive addlock nvlsm >/dev/null
    state=changed
fi`,
    };
    return {
        name: "fabric-manager-nvlsm",
        description: "NVLink subnet manager (nvlsm) for the NVLink 5 fabric, held, and ib_umad loaded at boot",
        script: script(
            PREAMBLE,
            sh`state=unchanged`,
            install[pm],
            sh`if [ ! -d /sys/module/ib_umad ]; then modprobe ib_umad; state=changed; fi
if [ ! -e ${IB_UMAD_CONF} ]; then printf 'ib_umad\\n' > ${IB_UMAD_CONF}; state=changed; fi
echo "$state: nvlsm installed and held, ib_umad loaded"`,
        ),
        changes: ["package nvlsm (held)", IB_UMAD_CONF, "kernel module ib_umad"],
        root: true,
    };
}

/**
 * Reads every GPU's fabric state as `State, Status` lines: the fabric.* query fields (R550 on), else the Fabric
 * section of `nvidia-smi -q`.
 */
const FABRIC_STATES = sh`fabric_states() {
    nvidia-smi --query-gpu=fabric.state,fabric.status --format=csv,noheader 2>/dev/null ||
        nvidia-smi -q | awk '/^    [A-Za-z]/ { fabric = ($0 ~ /^    Fabric[[:space:]]*$/) }
            fabric && /^        State[[:space:]]*:/ { s = $0; sub(/^[^:]*:[[:space:]]*/, "", s) }
            fabric && /^        Status[[:space:]]*:/ { t = $0; sub(/^[^:]*:[[:space:]]*/, "", t); print s ", " t }'
}`;

/**
 * Enables and starts nvidia-fabricmanager, restarts it after a package change, and waits until every GPU's fabric
 * is Completed / Success, so the runtime steps never meet CUDA error 802 ("system not yet initialized"). A failure
 * prints the service's log. While a new driver waits for its reboot, the service is only enabled.
 */
function fabricManagerServiceStep(target: FabricDriverTarget): PlanStep {
    return {
        name: "fabric-manager-service",
        description: `nvidia-fabricmanager enabled and running, every GPU's NVLink fabric Completed within ${FABRIC_TIMEOUT_SECONDS} s`,
        script: script(
            PREAMBLE,
            driverVersionOnHost(target),
            LOADED,
            FABRIC_STATES,
            sh`state=unchanged
if [ "$(systemctl is-enabled nvidia-fabricmanager 2>/dev/null)" != enabled ]; then systemctl enable nvidia-fabricmanager; state=changed; fi
if [ "$loaded" != "$version" ]; then
    echo "reboot-required: the loaded driver is \${loaded:-none}; Fabric Manager $version starts at boot with driver $version"
    exit 0
fi
show_log() { journalctl -u nvidia-fabricmanager -n 80 --no-pager >&2 2>/dev/null || true; }
if [ -e ${FABRIC_MANAGER_RESTART_MARK} ] || ! systemctl is-active --quiet nvidia-fabricmanager; then
    if ! systemctl restart nvidia-fabricmanager; then log "error: nvidia-fabricmanager did not start; its log:"; show_log; exit 42; fi
    rm -f ${FABRIC_MANAGER_RESTART_MARK}
    state=changed
fi
waited=0
while :; do
    states=$(fabric_states || true)
    if [ -n "$states" ] && ! printf '%s\\n' "$states" | grep -qv '^Completed, Success$'; then break; fi
    if ! systemctl is-active --quiet nvidia-fabricmanager; then log "error: nvidia-fabricmanager stopped while the fabric came up; its log:"; show_log; exit 43; fi
    if [ "$waited" -ge ${FABRIC_TIMEOUT_SECONDS} ]; then
        log "error: the NVLink fabric is not up after $waited s (per GPU: $(printf '%s' "$states" | tr '\\n' ';')); CUDA fails with error 802 until it is. nvidia-fabricmanager's log:"
        show_log
        exit 44
    fi
    sleep 5; waited=$((waited + 5))
done
echo "$state: nvidia-fabricmanager $version running, fabric Completed / Success on $(printf '%s\\n' "$states" | grep -c .) GPU(s)"`,
        ),
        changes: ["service nvidia-fabricmanager (enabled, started)"],
        root: true,
    };
}

/** nvidia-persistenced enabled and running, so the driver stays initialised between jobs (NVIDIA/nvidia-container-toolkit#202). */
function persistencedStep(): PlanStep {
    return {
        name: "persistenced",
        description: "nvidia-persistenced enabled and running; persistence mode Enabled on every GPU",
        script: script(
            PREAMBLE,
            sh`if ! systemctl cat nvidia-persistenced >/dev/null 2>&1; then
    log "error: the host has no nvidia-persistenced unit; install the driver's nvidia-persistenced (or nvidia-compute-utils) package, or set persistenced to false"; exit 47
fi
state=unchanged
if [ "$(systemctl is-enabled nvidia-persistenced 2>/dev/null)" != enabled ]; then systemctl enable nvidia-persistenced; state=changed; fi
if ! nvidia-smi -L >/dev/null 2>&1; then echo "reboot-required: no driver loaded yet; nvidia-persistenced starts at boot"; exit 0; fi
if ! systemctl is-active --quiet nvidia-persistenced; then
    if ! systemctl start nvidia-persistenced; then log "error: nvidia-persistenced did not start; its log:"; journalctl -u nvidia-persistenced -n 40 --no-pager >&2 2>/dev/null || true; exit 48; fi
    state=changed
fi
modes=$(nvidia-smi --query-gpu=index,persistence_mode --format=csv,noheader)
if printf '%s\\n' "$modes" | grep -q 'Disabled'; then log "error: persistence mode is still Disabled with nvidia-persistenced running: $(printf '%s' "$modes" | tr '\\n' ';')"; exit 49; fi
echo "$state: nvidia-persistenced running, persistence mode Enabled on $(printf '%s\\n' "$modes" | grep -c .) GPU(s)"`,
        ),
        changes: ["service nvidia-persistenced (enabled, started)"],
        root: true,
    };
}

/** Validates the spec's fields that reach scripts, for callers outside nodePlan. */
export function validateDataCentreSpec(spec: DataCentreSpec): void {
    validateChoice(spec.fabricManager ?? FabricManagerMode.Auto, FABRIC_MANAGER_MODES, "fabricManager");
    if (spec.driver?.version !== undefined) validate(spec.driver.version, "driverVersion", "driver.version");
    if (spec.driver?.branch !== undefined) validate(spec.driver.branch, "driverBranch", "driver.branch");
}
