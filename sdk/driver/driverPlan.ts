import { GpuConfigError } from "../errors";
import { renderResult } from "../steps/renderResult";
import { PREAMBLE } from "../shell/preamble";
import { ShellFragment, lines, script, sh } from "../shell/shellScript";
import { validate, validateChoice } from "../validate";
import { HostSnapshot } from "../host/snapshot";
import { fileStep } from "../steps/fileStep";
import { guardedFileStep } from "../steps/guardedFileStep";
import { PlanStep } from "../steps/planStep";
import { DNF_HOLD, DNF_RELEASE, ZYPPER_HOLD, ZYPPER_RELEASE, rpmUndo } from "./rpmDriver";
import { DEBIAN_DRIVER_PREFERENCES, debianDriverPackages, debianInstall, debianPreferencesStep, debianUndo } from "./debianDriver";

export { DRIVER_SOURCES, DriverSourceName as DriverSource, KERNEL_MODULE_TYPES, KernelModuleType } from "../spec/choices";
import { DRIVER_SOURCES, DriverSourceName as DriverSource, KERNEL_MODULE_TYPES, KernelModuleType } from "../spec/choices";

/** Keeps unattended-upgrades away from the driver, so library and kernel module cannot drift apart. */
export const UNATTENDED_UPGRADES_BLOCK = "/etc/apt/apt.conf.d/51pulumi-nvidia-gpu-driver";
/** The files a driver plan may write, read at preview. */
export const DRIVER_WATCHED_FILES = [UNATTENDED_UPGRADES_BLOCK, DEBIAN_DRIVER_PREFERENCES];
const CUDA_REPO = "https://developer.download.nvidia.com/compute/cuda/repos";

/** Which driver to install. Exactly one of `branch` or `version`. */
export interface DriverSpec {
    /** os-release ID and VERSION_ID of the host, e.g. `ubuntu` and `24.04`. */
    distro: { id: string; versionId: string };
    /** Driver branch, e.g. `580`. Mutually exclusive with `version`. */
    branch?: string;
    /** Exact driver version, e.g. `580.95.05`. Mutually exclusive with `branch`. */
    version?: string;
    /** Open (default; required for Blackwell, recommended from Turing on) or proprietary kernel modules. */
    kernelModules?: KernelModuleType;
    /** `distro` packages (Ubuntu's signed precompiled modules, Debian non-free) or NVIDIA's CUDA repository. Default: distro on Ubuntu, cuda-repo elsewhere. */
    source?: DriverSource;
    /** Ubuntu: the `-server` (data-centre) flavour. Default true. */
    server?: boolean;
    /** CPU architecture as `uname -m` prints it. Default x86_64. */
    arch?: string;
    /** Mirror of NVIDIA's CUDA repository. */
    cudaRepoUrl?: string;
    /** Package names to install instead of the defaults, for repositories that name them differently. */
    packages?: string[];
    /**
     * Reboot when the installed driver is not the loaded one, then wait for SSH (the next step's connection
     * retries while the host is down). Default false: the node reports `rebootPending` instead.
     */
    reboot?: boolean;
    /**
     * Destroy purges the driver packages (Debian's own driver). Default false: destroy keeps the driver, removing only
     * the pin's hold, because removing a driver stops every GPU workload on the host.
     */
    purgeOnDestroy?: boolean;
}

/**
 * The pin's own fields, checked before anything reads the host against them: exactly one of branch or version, each
 * well formed, and the kernel module type. Each error names the field as the user wrote it.
 */
export function checkedDriverPin(spec: { branch?: string; version?: string; kernelModules?: string }): {
    version: string | undefined;
    branch: string;
    modules: KernelModuleType;
} {
    if ((spec.branch === undefined) === (spec.version === undefined)) {
        throw new GpuConfigError(
            "driver",
            "needs exactly one of `branch` or `version`",
            "set driver.branch (e.g. 580) or driver.version (e.g. 580.95.05), not both",
        );
    }
    const version = spec.version === undefined ? undefined : validate(spec.version, "driverVersion", "driver.version");
    const branch = spec.branch === undefined ? version!.split(".")[0] : validate(spec.branch, "driverBranch", "driver.branch");
    const modules = validateChoice(spec.kernelModules ?? "open", KERNEL_MODULE_TYPES, "driver.kernelModules");
    return { version, branch, modules };
}

type Family = "ubuntu" | "debian" | "rhel" | "suse";

/**
 * The driver plan: headers (where modules are built), the packages pinned to the branch or version,
 * unattended upgrades kept off the driver, and a check that prints whether a reboot is needed.
 * The plan is empty on WSL2 (the driver lives on Windows) — callers decide that from host facts.
 */
export function driverPlan(spec: DriverSpec, snapshot?: HostSnapshot, kept?: string): PlanStep[] {
    const { version, branch, modules } = checkedDriverPin(spec);
    const family = familyOf(spec.distro.id);
    const source = validateChoice(spec.source ?? (family === "ubuntu" ? "distro" : "cuda-repo"), DRIVER_SOURCES, "driver.source");
    const arch = validateChoice(spec.arch ?? "x86_64", ["x86_64", "aarch64"] as const, "driver.arch");
    const cudaRepoUrl = validate((spec.cudaRepoUrl ?? CUDA_REPO).replace(/\/+$/, ""), "url", "driver.cudaRepoUrl");
    const distroVersion = validate(spec.distro.versionId, "name", "distro.versionId");
    if (source === "distro" && family !== "ubuntu" && family !== "debian") {
        throw new GpuConfigError("driver.source", `"distro" is only available on Ubuntu and Debian, not ${spec.distro.id}`, "set driver.source to cuda-repo");
    }
    if (source === "distro" && family === "debian" && spec.branch !== undefined) {
        throw new GpuConfigError(
            "driver.branch",
            "Debian's non-free driver has one branch per release",
            "set driver.version to a version Debian carries, or set driver.source to cuda-repo",
        );
    }
    const packages = spec.packages?.map((p, i) => validate(p, "name", `driver.packages[${i}]`));
    const ctx: DriverContext = {
        family,
        source,
        branch,
        version,
        modules,
        server: spec.server ?? true,
        arch,
        cudaRepoUrl,
        distroId: spec.distro.id,
        distroVersion,
        packages,
        purgeOnDestroy: spec.purgeOnDestroy ?? false,
    };

    const steps: PlanStep[] = [];
    // `kept`: the loaded driver, which no package owns, satisfies the pin (sdk/driver/driverPin.ts): nothing to install.
    if (kept === undefined) {
        if (!(family === "ubuntu" && source === "distro")) steps.push(headersStep(family));
        if (source === "cuda-repo") steps.push(cudaRepoStep(ctx));
        if (debianOwnDriver(ctx) && version !== undefined) steps.push(debianPreferencesStep(version, snapshot));
        steps.push(packagesStep(ctx));
    }
    if (family === "ubuntu" || family === "debian") {
        // Diffed against the live file and guarded when the host was read; unguarded for `gpu-node script`.
        const description = "keep unattended-upgrades away from nvidia-*, libnvidia-* and cuda-* packages";
        const result = renderResult(UNATTENDED_UPGRADES_BLOCK, snapshot?.files[UNATTENDED_UPGRADES_BLOCK], UNATTENDED_UPGRADES_TEXT, [
            "unattended-upgrades: nvidia-*, libnvidia-*, cuda-* blacklisted",
        ]);
        steps.push(
            snapshot === undefined
                ? fileStep("driver-no-unattended-upgrades", description, result)
                : guardedFileStep("driver-no-unattended-upgrades", description, result, snapshot),
        );
    }
    if (spec.reboot && kept === undefined) steps.push(rebootStep(ctx));
    const verify = verifyStep(ctx);
    steps.push(kept === undefined ? verify : { ...verify, description: `${kept}: nothing to install; ${verify.description}` });
    return steps;
}

interface DriverContext {
    family: Family;
    source: DriverSource;
    branch: string;
    version: string | undefined;
    modules: KernelModuleType;
    server: boolean;
    arch: "x86_64" | "aarch64";
    cudaRepoUrl: string;
    distroId: string;
    distroVersion: string;
    packages: string[] | undefined;
    purgeOnDestroy: boolean;
}

export const UNATTENDED_UPGRADES_TEXT = `// Written by pulumi-nvidia-gpu: driver upgrades are planned, not unattended, so the kernel
// module and the user-space library cannot drift apart ("Driver/library version mismatch").
Unattended-Upgrade::Package-Blacklist {
    "nvidia-";
    "libnvidia-";
    "cuda-";
};
`;

export function familyOf(id: string): Family {
    if (id === "ubuntu") return "ubuntu";
    if (id === "debian") return "debian";
    if (["rhel", "rocky", "almalinux", "centos", "ol", "fedora", "amzn"].includes(id)) return "rhel";
    if (["sles", "opensuse-leap", "opensuse-tumbleweed"].includes(id)) return "suse";
    throw new GpuConfigError(
        "distro",
        `no driver plan for ${JSON.stringify(id)}`,
        "use Ubuntu, Debian, a RHEL-family distribution or SUSE, or install the driver yourself and leave driver unset",
    );
}

/** Headers the repositories lack fail in one line naming the package (issue 23), not in apt's own words. */
const APT_HEADERS = sh`DEBIAN_FRONTEND=noninteractive retry 3 apt-get -o DPkg::Lock::Timeout=600 install -y -q "linux-headers-$(uname -r)" dkms ||
    { log "error: linux-headers-$(uname -r) is not in the configured repositories, so DKMS cannot build the driver module; boot a kernel your distribution has headers for, then run again"; exit 30; }`;

function headersStep(family: Family): PlanStep {
    const install: Record<Family, ShellFragment> = {
        ubuntu: APT_HEADERS,
        debian: APT_HEADERS,
        rhel: sh`retry 3 dnf install -y "kernel-devel-$(uname -r)" "kernel-headers-$(uname -r)"`,
        suse: sh`retry 3 zypper --non-interactive install -y kernel-default-devel`,
    };
    return {
        name: "driver-kernel-headers",
        description: "headers for the running kernel, so DKMS can build the driver module",
        script: script(
            PREAMBLE,
            sh`if [ -d "/lib/modules/$(uname -r)/build" ]; then echo "unchanged: headers for $(uname -r) present"; exit 0; fi`,
            sh`wait_for_lock`,
            family === "ubuntu" || family === "debian" ? sh`apt-get -o DPkg::Lock::Timeout=600 update -qq` : sh`:`,
            install[family],
            sh`[ -d "/lib/modules/$(uname -r)/build" ] || { log "error: no headers for kernel $(uname -r) in the repositories; upgrade the kernel and reboot, then run again"; exit 30; }`,
            sh`echo "changed: headers for $(uname -r)"`,
        ),
        changes: ["package linux-headers-$(uname -r) / kernel-devel"],
        root: true,
    };
}

/** NVIDIA's CUDA repository: `cuda-keyring` on apt, the `.repo` file on dnf and zypper. */
function cudaRepoStep(ctx: DriverContext): PlanStep {
    const repoArch = ctx.arch === "x86_64" ? "x86_64" : ctx.family === "ubuntu" || ctx.family === "debian" ? "sbsa" : "sbsa";
    const distroPath =
        ctx.family === "suse"
            ? `sles${ctx.distroVersion.split(".")[0]}`
            : ctx.family === "rhel"
              ? `${ctx.distroId === "fedora" ? "fedora" : ctx.distroId === "amzn" ? "amzn" : "rhel"}${ctx.distroVersion.split(".")[0]}`
              : `${ctx.distroId}${ctx.distroVersion.replace(".", "")}`;
    const base = `${ctx.cudaRepoUrl}/${distroPath}/${repoArch}`;
    const body: Record<Family, ShellFragment> = {
        ubuntu: aptKeyring(base),
        debian: aptKeyring(base),
        rhel: sh`if [ -e /etc/yum.repos.d/cuda-${distroPath}.repo ]; then echo unchanged; exit 0; fi
retry 3 curl -fsSL -o /etc/yum.repos.d/cuda-${distroPath}.repo ${`${base}/cuda-${distroPath}.repo`}
dnf clean expire-cache
echo changed`,
        suse: sh`if zypper repos cuda-${distroPath}-${repoArch} >/dev/null 2>&1; then echo unchanged; exit 0; fi
retry 3 zypper --non-interactive addrepo ${`${base}/cuda-${distroPath}.repo`}
zypper --non-interactive --gpg-auto-import-keys refresh
echo changed`,
    };
    return {
        name: "driver-cuda-repo",
        description: `NVIDIA's CUDA repository ${base}`,
        script: script(PREAMBLE, sh`wait_for_lock`, body[ctx.family]),
        changes: [`repository ${base}`],
        root: true,
    };
}

function aptKeyring(base: string): ShellFragment {
    return sh`if dpkg-query -W -f '\${db:Status-Abbrev}' cuda-keyring 2>/dev/null | grep -q '^ii'; then echo unchanged; exit 0; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
retry 3 curl -fsSL -o "$work/cuda-keyring.deb" ${`${base}/cuda-keyring_1.1-1_all.deb`}
dpkg -i "$work/cuda-keyring.deb"
apt-get -o DPkg::Lock::Timeout=600 update -qq
echo changed`;
}

/** Debian's own driver (non-free), by the packages the plan names: sdk/driver/debianDriver.ts. */
const debianOwnDriver = (ctx: Pick<DriverContext, "family" | "source" | "packages">) =>
    ctx.family === "debian" && ctx.source === "distro" && ctx.packages === undefined;

/** Package names per family and source, pinned to the branch or exact version. */
/** The distributions whose NVIDIA driver comes as dnf module streams (`nvidia-driver:580-open`). */
export function usesModuleStreams(ctx: Pick<DriverContext, "family" | "distroId" | "distroVersion">): boolean {
    return ctx.family === "rhel" && !["fedora", "amzn"].includes(ctx.distroId) && Number(ctx.distroVersion.split(".")[0]) <= 9;
}

export function driverPackages(
    ctx: Pick<DriverContext, "family" | "source" | "branch" | "version" | "modules" | "server" | "packages" | "distroId" | "distroVersion">,
): string[] {
    if (ctx.packages !== undefined) return ctx.packages;
    const open = ctx.modules === "open";
    if (ctx.family === "ubuntu" && ctx.source === "distro") {
        return [`nvidia-driver-${ctx.branch}${ctx.server ? "-server" : ""}${open ? "-open" : ""}`];
    }
    if (ctx.family === "debian" && ctx.source === "distro") return debianDriverPackages(ctx.modules);
    if (ctx.family === "ubuntu" || ctx.family === "debian") {
        // From branch 590 the CUDA repo drops the branch from package names; nvidia-driver-pinning-* locks it.
        return [`nvidia-driver-pinning-${ctx.version ?? ctx.branch}`, open ? "nvidia-open" : "cuda-drivers"];
    }
    if (ctx.family === "rhel") {
        // RHEL 8/9 and rebuilds: the CUDA repo's module streams; Fedora, Amazon Linux and RHEL 10 have none.
        if (usesModuleStreams(ctx)) return [`nvidia-driver:${ctx.branch}-${open ? "open" : "dkms"}`];
        return [open ? "nvidia-open" : "cuda-drivers"];
    }
    return [open ? `nvidia-open-driver-G06-signed-cuda-kmp-default` : `cuda-drivers-${ctx.branch}`];
}

function packagesStep(ctx: DriverContext): PlanStep {
    const packages = driverPackages(ctx);
    const exact = ctx.version;
    // The kmp is the kernel module only: NVIDIA's user space (nvidia-compute-utils-G06, which pulls nvidia-compute-G06:
    // nvidia-smi, libcuda, libnvidia-ml) goes with it, at the kmp's driver version (580.95.05 of 580.95.05_k6.4.0_…).
    const zypperInstall = packages[0].endsWith("-kmp-default")
        ? sh`retry 3 zypper --non-interactive --gpg-auto-import-keys install -y --oldpackage "$pkg=$candidate" "nvidia-compute-utils-G06=\${candidate%%_*}"`
        : sh`retry 3 zypper --non-interactive --gpg-auto-import-keys install -y --oldpackage "$pkg=$candidate"`;
    const install: Record<Family, ShellFragment> = {
        ubuntu:
            ctx.source === "distro" && exact !== undefined
                ? sh`pkg=${packages[0]}
exact=${exact}
candidate=$(apt-cache madison "$pkg" | awk -v v="$exact" '$3 ~ "^"v"-" { print $3; exit }')
[ -n "$candidate" ] || { log "error: $pkg has no version $exact in the configured repositories; pick one of: $(apt-cache madison "$pkg" | awk '{ print $3 }' | tr '\\n' ' ')"; exit 31; }
DEBIAN_FRONTEND=noninteractive retry 3 apt-get -o DPkg::Lock::Timeout=600 install -y -q --allow-downgrades "$pkg=$candidate"
apt-mark hold "$pkg"`
                : sh`DEBIAN_FRONTEND=noninteractive retry 3 apt-get -o DPkg::Lock::Timeout=600 install -y -q ${packages}
modules=$(printf 'linux-modules-nvidia-%s-%s' ${packages[0].replace(/^nvidia-driver-/, "")} "$(uname -r)")
if apt-cache show "$modules" >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "$modules"; fi`,
        debian: debianOwnDriver(ctx)
            ? debianInstall(packages, exact)
            : sh`DEBIAN_FRONTEND=noninteractive retry 3 apt-get -o DPkg::Lock::Timeout=600 install -y -q --allow-downgrades ${packages}`,
        rhel: lines(DNF_RELEASE, rhelInstall(ctx, packages), DNF_HOLD),
        // The kmp's version carries the kernel (580.95.05_k6.4.0_150600.21-1.1), so the pin is a prefix: the newest
        // version of the package that starts with the exact version, or with "<branch>.", is the one installed.
        suse:
            ctx.packages !== undefined
                ? sh`retry 3 zypper --non-interactive --gpg-auto-import-keys install -y ${packages}
${ZYPPER_HOLD}`
                : sh`zypper --non-interactive --gpg-auto-import-keys refresh >/dev/null
${ZYPPER_RELEASE}
pkg=${packages[0]}
candidate=$(zypper --non-interactive --no-refresh search -s --match-exact -t package "$pkg" | awk -F'|' -v w="$want" '{ v = $4; gsub(/ /, "", v) } index(v, w) == 1 && (w ~ /[.]$/ || substr(v, length(w) + 1, 1) !~ /[0-9]/) { print v }' | sort -V | tail -n 1)
[ -n "$candidate" ] || { log "error: $pkg has no version $want* in the configured repositories; pick one of: $(zypper --non-interactive --no-refresh search -s --match-exact -t package "$pkg" | awk -F'|' 'NR > 2 { v = $4; gsub(/ /, "", v); printf "%s ", v }')"; exit 31; }
${zypperInstall}
${ZYPPER_HOLD}`,
    };
    return {
        name: "driver-packages",
        description: `NVIDIA driver ${exact ?? `branch ${ctx.branch}`} (${ctx.modules} kernel modules) from ${ctx.source === "distro" ? "the distribution" : "NVIDIA's CUDA repository"}`,
        script: script(
            PREAMBLE,
            driverState(ctx, false),
            sh`case "$loaded" in "$want"*) echo "unchanged: driver $loaded is loaded"; exit 0 ;; esac`,
            sh`wait_for_lock`,
            ctx.family === "ubuntu" || ctx.family === "debian" ? sh`apt-get -o DPkg::Lock::Timeout=600 update -qq` : sh`:`,
            install[ctx.family],
            sh`echo "changed: driver packages installed; a reboot loads the new module"`,
        ),
        changes: packages.map((p) => `package ${p}${exact && !p.includes("pinning") ? ` (${exact})` : ""}`),
        root: true,
        rebootRequired: true,
        ...(debianOwnDriver(ctx) ? { undoScript: debianUndo(packages, ctx.purgeOnDestroy) } : {}),
        // Ubuntu's exact pin holds its package (apt-mark hold above): destroy releases that hold and keeps the driver.
        ...(ctx.family === "ubuntu" && ctx.source === "distro" && exact !== undefined
            ? {
                  undoScript: script(
                      sh`apt-mark unhold ${packages[0]} >/dev/null 2>&1 || true`,
                      sh`echo ${`kept: ${packages[0]} stays installed, no longer held`}`,
                  ),
              }
            : {}),
        ...(ctx.family === "rhel" || ctx.family === "suse" ? { undoScript: rpmUndo(ctx.family) } : {}),
    };
}

/**
 * Shell variables for the driver steps: `want` (the pinned version, or `<branch>.` as a prefix), `loaded`
 * (the kernel module's version) and `library` (libnvidia-ml's version on disk, empty where unknown).
 */
function driverState(ctx: Pick<DriverContext, "version" | "branch">, withLibrary = true): ShellFragment {
    return lines(sh`want=${ctx.version ?? `${ctx.branch}.`}`, READ_LOADED, withLibrary ? READ_LIBRARY : sh`:`);
}

const READ_LOADED = sh`loaded=$(sed -n 's/.*Kernel Module.*  \\([0-9][0-9.]*\\)  .*/\\1/p' /proc/driver/nvidia/version 2>/dev/null | head -n 1)`;
const READ_LIBRARY = sh`library=""
for f in /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.* /usr/lib64/libnvidia-ml.so.* /usr/lib/aarch64-linux-gnu/libnvidia-ml.so.* /usr/local/nvidia/lib64/libnvidia-ml.so.* \\
    /usr/lib/x86_64-linux-gnu/nvidia/current/libnvidia-ml.so.* /usr/lib/aarch64-linux-gnu/nvidia/current/libnvidia-ml.so.*; do
    v=\${f##*libnvidia-ml.so.}
    case "$v" in [0-9]*.[0-9]*) library=$v ;; esac
done`;

/**
 * Reboots only when the pinned driver is installed but not loaded. The reboot is scheduled (a systemd timer, 2 s
 * out) before anything else changes, so a host where it cannot be scheduled keeps its sshd and the step fails; the
 * command then ends cleanly before the host goes down. Next, sshd stops taking new logins (this session stays: sshd's
 * units kill only their main process), so the next step cannot reach the host in the moment before it goes down; its
 * connection retries until the host is back: up to connection.dialErrorLimit tries (30 by default), each costing its
 * back-off (up to 5 s) when refused and perDialTimeout (15 s) more when the host does not answer, 2 to 10 min in all.
 * A reboot that cannot start brings sshd back.
 */
function rebootStep(ctx: DriverContext): PlanStep {
    return {
        name: "driver-reboot",
        description: "reboot if the installed driver is not the loaded one, and wait for SSH to come back",
        script: script(
            driverState(ctx),
            // A reboot helps only when the pinned driver is what is installed.
            sh`case "$library" in "$want"*|"") ;; *) echo "error: the driver library on disk is $library, not the pinned $want: not rebooting" >&2; exit 33 ;; esac`,
            sh`case "$loaded" in "$want"*) [ -z "$library" ] || [ "$library" = "$loaded" ] && { echo "unchanged: driver $loaded loaded, no reboot"; exit 0; } ;; esac`,
            sh`echo "rebooting: driver \${library:-(new)} installed, \${loaded:-none} loaded"`,
            sh`systemd-run --quiet --on-active=2 sh -c 'systemctl reboot || reboot || { systemctl start ssh.socket ssh.service || systemctl start sshd.service; }' || { echo "error: could not schedule the reboot (systemd-run); sshd left running: reboot the host by hand" >&2; exit 34; }`,
            sh`for unit in ssh.socket ssh.service sshd.service; do systemctl stop "$unit" >/dev/null 2>&1 || true; done`,
        ),
        changes: ["host reboot (only when the driver changed)"],
        root: true,
        rebootRequired: true,
    };
}

/** RHEL 8/9: install the module stream (or enable it and pin the exact version); elsewhere plain packages. */
function rhelInstall(ctx: DriverContext, packages: string[]): ShellFragment {
    const exact = ctx.version;
    if (!usesModuleStreams(ctx) || ctx.packages !== undefined) {
        return sh`retry 3 dnf install -y ${exact ? [...packages, `nvidia-driver-${exact}`] : packages}`;
    }
    if (exact === undefined) return sh`retry 3 dnf -y module install ${packages}`;
    return sh`retry 3 dnf -y module enable ${packages}
retry 3 dnf install -y ${`nvidia-driver-${exact}`}`;
}

/**
 * Prints the driver state as one JSON line: `ok` when the loaded module is the pinned one and matches
 * the library on disk, `reboot-required` when packages changed but the module did not. Fails on a
 * loaded module of another branch.
 */
function verifyStep(ctx: DriverContext): PlanStep {
    return {
        name: "driver-verify",
        description: "check that the loaded driver is the pinned one and matches the library on disk",
        script: script(
            driverState(ctx),
            sh`state=ok
case "$loaded" in "$want"*) ;; *) state=reboot-required ;; esac
if [ -n "$library" ] && [ -n "$loaded" ] && [ "$library" != "$loaded" ]; then state=reboot-required; fi`,
            sh`printf '{"loaded":"%s","library":"%s","state":"%s"}\\n' "$loaded" "$library" "$state"`,
            // In words, and only what was checked: a module built but not loaded is a pending reboot, not success.
            sh`if [ "$state" = ok ]; then echo "ok: driver $loaded loaded, library \${library:-not found}"
elif [ -z "$loaded" ] && [ -n "$library" ]; then echo "installed, not loaded: reboot pending (driver $library)"
elif [ -n "$loaded" ]; then echo "installed \${library:-(library not found)}, loaded $loaded: reboot pending"
else echo "no NVIDIA driver installed or loaded"; fi`,
            lines(sh`case "$library" in "$want"*|"") ;; *) echo "error: the driver library on disk is $library, not the pinned $want" >&2; exit 32 ;; esac`),
        ),
        changes: [],
        root: false,
    };
}
