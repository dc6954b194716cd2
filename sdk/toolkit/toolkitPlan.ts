import { PackageManager } from "../host/hostFacts";
import { renderResult } from "../steps/renderResult";
import { TOOLKIT_CONFIG, ToolkitSetting, renderToolkitConfig, runtimeModeSetting } from "./toolkitConfig";
import { PREAMBLE } from "../shell/preamble";
import { ShellFragment, lines, script, sh } from "../shell/shellScript";
import { validate, validateChoice } from "../validate";
import { HostSnapshot, WatchedFile } from "../host/snapshot";
import {
    ABSENT,
    BACKUP_ONCE,
    STATE_ROOT,
    backupOnceFragment,
    backupPath,
    fileStep,
    lockFragment,
    recordGenerationFragment,
    restoreFragment,
    restoreScript,
} from "../steps/fileStep";
import { binaryGuard, guardedFileStep } from "../steps/guardedFileStep";
import { validateRuntimeMode } from "./injectionMode";
import { PlanStep } from "../steps/planStep";
import { DEFAULT_CDI_SPEC, toolkitConfigOnHostStep } from "./toolkitSteps";
import { REMOVE_CREATED_DIRS, recordCreatedDirs } from "../steps/stateCleanup";

/** The four packages NVIDIA's install guide pins to one version; they require each other's exact version. */
export const TOOLKIT_PACKAGES = ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1"] as const;

export const NVIDIA_REPO_URL = "https://nvidia.github.io/libnvidia-container";
/** Fingerprint of NVIDIA's libnvidia-container signing key (`NVIDIA CORPORATION (Open Source Projects)`). */
export const NVIDIA_KEY_FINGERPRINT = "C95B321B61E88C1809C4F759DDCAE044F796ECB0";
export const APT_KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg";
export const RPM_KEY = "/etc/pki/rpm-gpg/RPM-GPG-KEY-nvidia-container-toolkit";
export const APT_LIST = "/etc/apt/sources.list.d/nvidia-container-toolkit.list";
export const DNF_REPO = "/etc/yum.repos.d/nvidia-container-toolkit.repo";
export const ZYPPER_REPO = "/etc/zypp/repos.d/nvidia-container-toolkit.repo";
/** Lists from older install guides that conflict with ours (`Conflicting values set for option Signed-By`). */
const LEGACY_APT_LISTS = ["/etc/apt/sources.list.d/nvidia-docker.list", "/etc/apt/sources.list.d/libnvidia-container.list"];

/** What to install; every field is validated before any script exists. */
export interface ToolkitSpec {
    /** Exact package version for all four packages, e.g. `1.20.0-1`. */
    version: string;
    /** apt, dnf or zypper (yum hosts use the dnf plan). */
    packageManager: PackageManager;
    /** Also enable NVIDIA's experimental channel. Default false. */
    experimental?: boolean;
    /** Base URL of the repository, for mirrors and air-gapped setups. Default NVIDIA's. */
    repoUrl?: string;
    /** URL of the signing key. Default `<repoUrl>/gpgkey`. */
    keyUrl?: string;
    /** Fingerprint the downloaded key must have. Default NVIDIA's. */
    keyFingerprint?: string;
    /**
     * `nvidia-container-runtime.mode` to set in the toolkit config: `auto`, `jit-cdi` (toolkit ≥ 1.18), `cdi`
     * (≥ 1.12) or `legacy`. Default: the host's setting is left as it is.
     */
    mode?: string;
}

/** Where each package manager keeps the repository definition. */
export const REPO_FILES = { apt: APT_LIST, dnf: DNF_REPO, zypper: ZYPPER_REPO } as const;

/**
 * The host files the toolkit plan writes, for the preview's read: every package manager's repository
 * definition and keyring (which one the host uses is known only once it is read); keyrings by checksum.
 */
export function toolkitWatchedFiles(): WatchedFile[] {
    return [...Object.values(REPO_FILES).map((path) => ({ path })), { path: APT_KEYRING, binary: true }, { path: RPM_KEY, binary: true }];
}

/**
 * The Container Toolkit plan, step by step as NVIDIA's install guide does it, pinned and idempotent.
 * With a host snapshot, the repository definition is diffed against the live file and its write guarded
 * (see guardedFileStep.ts); without one (`gpu-node script`), it is written unguarded. The toolkit config
 * (`spec.mode`, then the caller's `settings`, e.g. rootless Docker's no-cgroups) is one last step, so the
 * file has one writer.
 */
export function toolkitPlan(spec: ToolkitSpec, snapshot?: HostSnapshot, settings: ToolkitSetting[] = []): PlanStep[] {
    const version = validate(spec.version, "packageVersion", "toolkit.version");
    const pm = validateChoice(spec.packageManager === "yum" ? "dnf" : spec.packageManager, ["apt", "dnf", "zypper"] as const, "packageManager");
    const repoUrl = validate((spec.repoUrl ?? NVIDIA_REPO_URL).replace(/\/+$/, ""), "url", "toolkit.repoUrl");
    const keyUrl = validate(spec.keyUrl ?? `${repoUrl}/gpgkey`, "url", "toolkit.keyUrl");
    const fingerprint = validate((spec.keyFingerprint ?? NVIDIA_KEY_FINGERPRINT).replace(/\s+/g, "").toUpperCase(), "fingerprint", "toolkit.keyFingerprint");
    const experimental = spec.experimental ?? false;
    const mode = validateRuntimeMode(spec.mode, version);
    const config = [...(mode === undefined ? [] : [runtimeModeSetting(mode)]), ...settings];

    return [
        prerequisitesStep(pm),
        keyStep(pm, keyUrl, fingerprint, snapshot),
        repoStep(pm, repoUrl, experimental, snapshot),
        packagesStep(pm, version, repoUrl),
        ...(config.length === 0 ? [] : [snapshot === undefined ? toolkitConfigOnHostStep(config) : toolkitConfigStep(snapshot, config)]),
    ];
}

/**
 * The toolkit's config.toml: rendered here when it exists, else edited by nvidia-ctk once the package
 * created it. A converged file that nvidia-ctk edited last gets that same step again (its inputs are
 * those of the last run); a drifted one gets a guarded write of the rendered text.
 */
export function toolkitConfigStep(snapshot: HostSnapshot, settings: ToolkitSetting[]): PlanStep {
    const current = snapshot.files[TOOLKIT_CONFIG];
    if (current === undefined) return toolkitConfigOnHostStep(settings);
    const result = renderToolkitConfig(current, settings);
    if (!result.changed && (snapshot.editedByNvidiaCtk ?? []).includes(TOOLKIT_CONFIG)) return { ...toolkitConfigOnHostStep(settings), files: [result] };
    return guardedFileStep("toolkit-config", `toolkit config: ${settings.map((s) => s.key).join(", ")}`, result, snapshot);
}

function prerequisitesStep(pm: "apt" | "dnf" | "zypper"): PlanStep {
    const install: Record<typeof pm, ShellFragment> = {
        apt: sh`wait_for_lock; apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive retry 3 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends ca-certificates curl gnupg`,
        dnf: sh`wait_for_lock; retry 3 dnf install -y -q ca-certificates curl gnupg2`,
        zypper: sh`wait_for_lock; retry 3 zypper --non-interactive install -y ca-certificates curl gpg2`,
    };
    return {
        name: "toolkit-prerequisites",
        description: "curl, gnupg and CA certificates for NVIDIA's repository",
        script: script(
            PREAMBLE,
            sh`if command -v curl >/dev/null && command -v gpg >/dev/null; then echo unchanged; exit 0; fi`,
            install[pm],
            sh`echo changed`,
        ),
        changes: ["packages: ca-certificates curl gnupg"],
        root: true,
    };
}

/**
 * Downloads the key, refuses it unless its fingerprint is the pinned one, and installs it where the repo
 * definition points. Like every file this library writes: under the host lock, guarded against a change
 * since the preview (by checksum: a keyring is binary), with a verified backup of any keyring that was
 * there, and an undo that restores it byte for byte.
 */
function keyStep(pm: "apt" | "dnf" | "zypper", keyUrl: string, fingerprint: string, snapshot: HostSnapshot | undefined): PlanStep {
    const target = pm === "apt" ? APT_KEYRING : RPM_KEY;
    const backup = backupPath(target, false);
    const { guard, generation } = binaryGuard(target, snapshot);
    const install = pm === "apt" ? sh`gpg --batch --yes --dearmor -o "$work/key.gpg" "$work/key.asc"` : sh`cp "$work/key.asc" "$work/key.gpg"`;
    // rpm --import takes rpm's database lock: wait for a running rpm or dnf like the package steps do. The key becomes
    // the package gpg-pubkey-<short id>: marked when this step added it, so that destroy removes only what it added.
    const trust = pm === "apt" ? sh`:` : rpmKeyImport(pm, target, fingerprint, backup);
    return {
        name: "toolkit-key",
        description: `NVIDIA's signing key at ${target}, fingerprint checked against ${fingerprint}`,
        script: script(
            PREAMBLE,
            sh`target=${target}`,
            sh`backup=${backup}`,
            sh`key_url=${keyUrl}`,
            sh`fingerprint=${fingerprint}`,
            sh`expected=${guard ?? "any"}`,
            lockFragment(false),
            recordGenerationFragment(generation, true),
            sh`if [ -e "$target" ]; then current=$(sha256sum < "$target" | cut -d ' ' -f 1); else current=${ABSENT}; fi`,
            sh`work=$(mktemp -d); trap 'rm -rf "$work"' EXIT`,
            sh`if ! retry 3 curl -fsSL --connect-timeout 20 -o "$work/key.asc" "$key_url"; then
    log "error: could not download NVIDIA's signing key from $key_url; check the host's network or set toolkit.keyUrl to a mirror"; exit 10
fi`,
            sh`found=$(gpg --batch --show-keys --with-colons "$work/key.asc" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')`,
            sh`if [ "$found" != "$fingerprint" ]; then
    log "error: the key at $key_url has fingerprint \${found:-none}, not the pinned $fingerprint; it was not installed. If NVIDIA rotated its key, check the new fingerprint on NVIDIA's site and set toolkit.keyFingerprint."; exit 11
fi`,
            install,
            sh`new_sum=$(sha256sum < "$work/key.gpg" | cut -d ' ' -f 1)`,
            sh`if [ "$current" = "$new_sum" ]; then record_generation; echo "unchanged $target"; exit 0; fi`,
            sh`if [ "$expected" != any ] && [ "$current" != "$expected" ]; then
    log "error: $target changed since it was read for the preview (sha256 $current, expected $expected); nothing was written. Run the preview again."; exit 3
fi`,
            // /etc/pki/rpm-gpg is made here on a host without it; NVIDIA's packages make none of the folders they use.
            recordCreatedDirs(sh`"$(dirname "$target")"`),
            sh`mkdir -p "$(dirname "$target")" "$(dirname "$backup")"`,
            BACKUP_ONCE,
            sh`rm -f "$backup.prev" "$backup.prev-absent"`,
            sh`if [ -e "$target" ]; then cp -p "$target" "$backup.prev"; else : > "$backup.prev-absent"; fi`,
            // Recorded before the write: a full backup folder stops the step here, with the keyring untouched.
            sh`record_state "$backup.written" "$new_sum"`,
            sh`record_generation`,
            sh`install -m 0644 "$work/key.gpg" "$target.tmp" && sync -- "$target.tmp" 2>/dev/null; mv -f "$target.tmp" "$target"`,
            trust,
            sh`echo "changed $target"`,
        ),
        undoScript:
            pm === "apt"
                ? restoreScript(target, backup, lines(sh`rm -f ${backup + ".written"}`, REMOVE_CREATED_DIRS))
                : script(PREAMBLE, restoreFragment(target, backup), sh`rm -f ${backup + ".written"}`, rpmKeyErase(pm, backup), REMOVE_CREATED_DIRS),
        changes: [target],
        root: true,
        drift: keyringDrift(target, snapshot),
    };
}

/** rpm's name for an imported key: gpg-pubkey-<the fingerprint's last 8 hex digits, lower case>. */
function rpmKeyName(fingerprint: string): string {
    return `gpg-pubkey-${fingerprint.slice(-8).toLowerCase()}`;
}

/** Imports the key into rpm's database, marking the import (`<backup>.imported`) when the key was not there before. */
function rpmKeyImport(pm: "dnf" | "zypper", target: string, fingerprint: string, backup: string): ShellFragment {
    const name = rpmKeyName(fingerprint);
    const rpm = rpmCommand(pm);
    return lines(
        sh`wait_for_lock`,
        sh`if ! ${rpm} -q ${name} >/dev/null 2>&1; then record_state ${`${backup}.imported`} ${name}; fi`,
        sh`${rpm} --import ${target}`,
    );
}

/** rpm on the package manager's own database: zypper's is /var/lib/rpm (as its packages step reads it), dnf's the default. */
function rpmCommand(pm: "dnf" | "zypper"): ShellFragment {
    return pm === "zypper" ? sh`rpm --dbpath /var/lib/rpm` : sh`rpm`;
}

/** The undo's part: erases the key from rpm's database only where the key step imported it. */
function rpmKeyErase(pm: "dnf" | "zypper", backup: string): ShellFragment {
    return sh`if [ -e ${`${backup}.imported`} ]; then
    wait_for_lock
    ${rpmCommand(pm)} -e --allmatches "$(cat ${`${backup}.imported`})" >/dev/null 2>&1 || true
    rm -f ${`${backup}.imported`}
fi`;
}

/** A keyring deleted or replaced since the key step wrote it, for the preview (issue 22). */
function keyringDrift(target: string, snapshot: HostSnapshot | undefined): string[] {
    const state = snapshot?.binaryFiles?.[target];
    if (state?.written === undefined || state.sum === state.written) return [];
    return [`${target}: sha256 ${state.written.slice(0, 12)}… → ${state.sum === ABSENT ? "absent" : `sha256 ${state.sum.slice(0, 12)}…`}`];
}

function repoStep(pm: "apt" | "dnf" | "zypper", repoUrl: string, experimental: boolean, snapshot: HostSnapshot | undefined): PlanStep {
    const text = repoDefinition(pm, repoUrl, experimental);
    const path = REPO_FILES[pm];
    const description = `NVIDIA's ${experimental ? "stable and experimental" : "stable"} repository in ${path}`;
    const result = renderResult(path, snapshot?.files[path], text, [`repository ${repoUrl}${experimental ? " (+ experimental)" : ""}`]);
    const step = snapshot === undefined ? fileStep("toolkit-repo", description, result) : guardedFileStep("toolkit-repo", description, result, snapshot);
    if (pm !== "apt") return step;
    // Older guides' lists name the same repo with another Signed-By, which makes apt refuse both.
    const legacy = script(
        ...LEGACY_APT_LISTS.map(
            (list) =>
                sh`if [ -e ${list} ]; then mkdir -p /var/lib/pulumi-nvidia-gpu/backup/legacy && mv -f ${list} /var/lib/pulumi-nvidia-gpu/backup/legacy/; echo "moved aside "${list}; fi`,
        ),
    );
    return { ...step, script: step.script + legacy.replace(/^#!\/bin\/sh\nset -eu\n/, ""), changes: [...step.changes, ...LEGACY_APT_LISTS] };
}

/** The repository definition, as NVIDIA's `.list` / `.repo` files spell it, pointing at the pinned key. */
export function repoDefinition(pm: "apt" | "dnf" | "zypper", repoUrl: string, experimental: boolean): string {
    if (pm === "apt") {
        return [
            `deb [signed-by=${APT_KEYRING}] ${repoUrl}/stable/deb/$(ARCH) /`,
            `${experimental ? "" : "#"}deb [signed-by=${APT_KEYRING}] ${repoUrl}/experimental/deb/$(ARCH) /`,
            "",
        ].join("\n");
    }
    const section = (id: string, channel: string, enabled: boolean) =>
        [
            `[${id}]`,
            `name=${id}`,
            `baseurl=${repoUrl}/${channel}/rpm/$basearch`,
            "repo_gpgcheck=1",
            "gpgcheck=0",
            `enabled=${enabled ? 1 : 0}`,
            `gpgkey=file://${RPM_KEY}`,
            ...(pm === "dnf" ? ["sslverify=1"] : ["autorefresh=1", "type=rpm-md"]),
            "",
        ].join("\n");
    return `${section("nvidia-container-toolkit", "stable", true)}\n${section("nvidia-container-toolkit-experimental", "experimental", experimental)}`;
}

/**
 * The toolkit config, which the base package's postinst writes (`nvidia-ctk config --in-place`) and no package owns, so
 * purge leaves it: the packages step keeps it as it was before the first install (under before-packages, not a file
 * step's backup), and its undo puts that back.
 */
const CONFIG_BEFORE_PACKAGES = `${STATE_ROOT}/before-packages${TOOLKIT_CONFIG}`;

/** Installs the four packages at exactly `version`: upgrades and downgrades alike, nothing when already there. */
function packagesStep(pm: "apt" | "dnf" | "zypper", version: string, repoUrl: string): PlanStep {
    const pinned = TOOLKIT_PACKAGES.map((p) => (pm === "apt" ? `${p}=${version}` : `${p}-${version}`));
    const installed =
        pm === "apt"
            ? sh`installed_version() { dpkg-query -W -f '\${Version} \${db:Status-Abbrev}' "$1" 2>/dev/null | awk '$2 == "ii" { print $1 }'; }`
            : pm === "dnf"
              ? // rpm first (fast); dnf's own query where the rpm CLI cannot read dnf's database (Debian's rpm and dnf, found by the e2e fleet).
                sh`installed_version() { v=$(rpm -q --qf '%{VERSION}-%{RELEASE}' "$1" 2>/dev/null | grep -v 'not installed' || true); [ -n "$v" ] || v=$(dnf -q repoquery --installed --qf '%{version}-%{release}' "$1" 2>/dev/null | tail -n 1); printf '%s' "$v"; }`
              : sh`installed_version() { rpm --dbpath /var/lib/rpm -q --qf '%{VERSION}-%{RELEASE}' "$1" 2>/dev/null | grep -v 'not installed' || true; }`;
    const refreshAndInstall: Record<typeof pm, ShellFragment> = {
        apt: lines(
            // Finish an install that an earlier, interrupted run (a dropped SSH session) left half done.
            sh`dpkg --configure -a >/dev/null 2>&1 || true`,
            sh`out=$(apt-get -o DPkg::Lock::Timeout=600 update 2>&1) || true`,
            sh`printf '%s\\n' "$out" | grep -E '^(E|W|Err):' >&2 || true`,
            sh`if printf '%s\\n' "$out" | grep -F "$repo_url" | grep -qE 'NO_PUBKEY|EXPKEYSIG|not signed|BADSIG|Signed-By|InRelease.*(Bad|invalid)'; then
    log "error: apt could not verify NVIDIA's repository $repo_url (see above): the key may be expired or rotated. Refresh it: run again with toolkit.keyFingerprint set to NVIDIA's current key."; exit 20
fi`,
            sh`if printf '%s\\n' "$out" | grep -F "$repo_url" | grep -qE '^(E:|Err:)'; then
    log "error: NVIDIA's repository $repo_url could not be read (see above); check the network or toolkit.repoUrl, then run again"; exit 21
fi`,
            sh`DEBIAN_FRONTEND=noninteractive retry 3 apt-get -o DPkg::Lock::Timeout=600 install -y -q --allow-downgrades --no-install-recommends ${pinned}`,
        ),
        dnf: lines(
            sh`if ! retry 2 dnf -y makecache --repo nvidia-container-toolkit >/dev/null; then
    log "error: dnf could not read NVIDIA's repository $repo_url; check the network, toolkit.repoUrl or the key"; exit 21
fi`,
            sh`action=install; for p in ${TOOLKIT_PACKAGES}; do v=$(installed_version "$p"); if [ -n "$v" ] && [ "$(printf '%s\\n%s\\n' "$v" "$version" | sort -V | tail -n 1)" != "$version" ]; then action=downgrade; fi; done`,
            sh`if ! dnf -y "$action" ${pinned}; then
    log "dnf failed; cleaning its package cache and trying once more"; dnf clean packages; dnf -y "$action" ${pinned}
fi`,
        ),
        zypper: lines(
            sh`if ! retry 2 zypper --non-interactive --gpg-auto-import-keys refresh nvidia-container-toolkit; then
    log "error: zypper could not read NVIDIA's repository $repo_url; check the network, toolkit.repoUrl or the key"; exit 21
fi`,
            sh`retry 3 zypper --non-interactive --gpg-auto-import-keys install -y --oldpackage ${pinned}`,
        ),
    };
    const removeAll: Record<typeof pm, ShellFragment> = {
        // purge, not remove: remove leaves the packages' config files and systemd unit links behind.
        apt: sh`DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y -q ${TOOLKIT_PACKAGES}`,
        dnf: sh`dnf -y remove ${TOOLKIT_PACKAGES}`,
        zypper: sh`zypper --non-interactive remove -y ${TOOLKIT_PACKAGES}`,
    };
    return {
        name: "toolkit-packages",
        description: `${TOOLKIT_PACKAGES.join(", ")} at ${version}`,
        script: script(
            PREAMBLE,
            sh`version=${version}`,
            sh`repo_url=${repoUrl}`,
            installed,
            sh`at_version=yes; for p in ${TOOLKIT_PACKAGES}; do [ "$(installed_version "$p")" = "$version" ] || at_version=no; done`,
            sh`if [ "$at_version" = yes ]; then echo "unchanged: all four toolkit packages at $version"; exit 0; fi`,
            sh`wait_for_lock`,
            backupOnceFragment(TOOLKIT_CONFIG, CONFIG_BEFORE_PACKAGES),
            // The packages' nvidia-cdi-refresh units create the CDI folder: destroy removes it only if it was not there.
            // …and NVIDIA's rpm spec owns none of /etc/nvidia-container-toolkit (nvidia-cdi-refresh.env's folder) or
            // /etc/nvidia-container-runtime (the postinst's config.toml): rpm -e leaves both behind.
            recordCreatedDirs(sh`/var/run/cdi`, sh`/etc/cdi`, sh`/etc/nvidia-container-toolkit`, sh`${TOOLKIT_CONFIG.replace(/\/[^/]*$/, "")}`),
            refreshAndInstall[pm],
            sh`for p in ${TOOLKIT_PACKAGES}; do v=$(installed_version "$p"); [ "$v" = "$version" ] || { log "error: $p is at \${v:-nothing} after the install, not $version"; exit 22; }; done`,
            sh`echo "changed: all four toolkit packages at $version"`,
        ),
        undoScript: script(
            PREAMBLE,
            sh`wait_for_lock`,
            removeAll[pm],
            restoreFragment(TOOLKIT_CONFIG, CONFIG_BEFORE_PACKAGES),
            // The spec the packages' nvidia-cdi-refresh units wrote (toolkit ≥ 1.19) names hooks the purge removed; it is
            // generated (on tmpfs), so it goes, whatever was there before: a restored old spec would be as stale.
            sh`rm -f ${DEFAULT_CDI_SPEC}`,
            REMOVE_CREATED_DIRS,
        ),
        changes: pinned.map((p) => `package ${p}`),
        root: true,
    };
}
