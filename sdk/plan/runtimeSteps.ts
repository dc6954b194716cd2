import { RenderResult } from "../render/renderResult";
import { TOOLKIT_CONFIG, ToolkitSetting } from "../render/toolkitConfig";
import { ShellFragment, lines, script, sh } from "../shell/shellScript";
import { backupPath, rollbackFragment, sha256 } from "./fileStep";
import { PlanStep } from "./planStep";
import { validateCdiSpecOutput } from "../validate";
import { REMOVE_CREATED_DIRS, recordCreatedDirs } from "./stateCleanup";

/** How each runtime is validated, restarted and waited for. */
interface ServiceControl {
    /** Checks the new config without starting the daemon. */
    validate: ShellFragment;
    restart: ShellFragment;
    /** Succeeds once the daemon answers. */
    ready: ShellFragment;
    /** The daemon's own last words, for the error message. */
    logs: ShellFragment;
}

const SERVICES: Record<"docker" | "containerd" | "crio", ServiceControl> = {
    docker: {
        validate: sh`if dockerd --help 2>/dev/null | grep -q -- '--validate'; then dockerd --validate --config-file /etc/docker/daemon.json; fi`,
        restart: sh`systemctl restart docker`,
        ready: sh`docker info >/dev/null 2>&1`,
        logs: sh`journalctl -u docker -n 15 --no-pager 2>/dev/null || true`,
    },
    containerd: {
        validate: sh`containerd config dump >/dev/null`,
        restart: sh`systemctl restart containerd`,
        ready: sh`ctr version >/dev/null 2>&1`,
        logs: sh`journalctl -u containerd -n 15 --no-pager 2>/dev/null || true`,
    },
    crio: {
        validate: sh`crio config >/dev/null 2>&1 || crio --config-dir /etc/crio/crio.conf.d config >/dev/null`,
        restart: sh`systemctl restart crio`,
        ready: sh`systemctl is-active --quiet crio`,
        logs: sh`journalctl -u crio -n 15 --no-pager 2>/dev/null || true`,
    },
};

/**
 * Restarts a runtime only when its config files differ from those it was last restarted with
 * (a stamp of their checksums and write generations), validates first, checks that the daemon really
 * restarted (a new main PID, not the old daemon still answering), and on failure puts the previous
 * files back, restarts again and fails with the daemon's own error. Its undo drops the stamp, so a
 * later create after a destroy restarts again.
 */
export function restartStep(service: "docker" | "containerd" | "crio", files: RenderResult[], revision = ""): PlanStep {
    const control = SERVICES[service];
    const stamp = `${STAMP_DIR}/${service}`;
    const fingerprint = sha256([...files.map((f) => `${f.path}\n${sha256(f.text)}`), revision].join("\n"));
    return {
        name: `${service}-restart`,
        description: `restart ${service} if its configuration changed, with rollback if it does not come back`,
        script: script(
            sh`service=${service}`,
            sh`stamp=${stamp}`,
            sh`want=${fingerprint}`,
            sh`if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then echo "unchanged: $stamp"; exit 0; fi`,
            sh`changed=no`,
            lines(...files.map((f) => sh`[ -e ${backupPath(f.path, false) + ".changed"} ] && changed=yes`)),
            sh`if [ "$changed" = no ] && [ ! -f "$stamp" ]; then
    mkdir -p "$(dirname "$stamp")"; printf '%s' "$want" > "$stamp"
    echo "unchanged: the configuration was already in place; $service not restarted"; exit 0
fi`,
            sh`rollback() {
    ${lines(...files.map((f) => rollbackFragment(f.path)))}
    ${control.restart} || true
}`,
            sh`if ! out=$(${control.validate} 2>&1); then
    echo "error: the new configuration does not validate; the previous files were put back: $out" >&2
    rollback; exit 5
fi`,
            SYSTEMD_REQUIRED,
            sh`before=$(systemctl show -p MainPID --value "$service" 2>/dev/null || echo 0)`,
            // A unit restarted a few times in a row (quick re-applies) hits systemd's start limit and refuses.
            sh`systemctl reset-failed "$service" >/dev/null 2>&1 || true`,
            sh`if ! out=$(${control.restart} 2>&1); then
    logs=$(${control.logs})
    rollback
    echo "error: systemctl restart $service failed: $out; the previous configuration was restored. Its log: $logs" >&2
    exit 6
fi`,
            sh`n=0; until ${control.ready}; do
    n=$((n + 1))
    if [ "$n" -ge 60 ]; then
        logs=$(${control.logs})
        rollback
        echo "error: $service did not come back within 60 s after the restart; the previous configuration was restored and $service restarted. Its log: $logs" >&2
        exit 6
    fi
    sleep 1
done`,
            sh`after=$(systemctl show -p MainPID --value "$service" 2>/dev/null || echo 0)`,
            sh`if [ "$after" = 0 ] || [ "$after" = "$before" ]; then
    echo "error: $service was not restarted (main PID $before before, $after after), so it still runs the old configuration" >&2
    exit 6
fi`,
            sh`mkdir -p "$(dirname "$stamp")"; printf '%s' "$want" > "$stamp"`,
            sh`rm -f ${files.map((f) => backupPath(f.path, false) + ".changed")}`,
            sh`echo "restarted $service (main PID $before -> $after)"`,
        ),
        undoScript: script(sh`rm -f ${stamp}`),
        changes: [`service ${service} (restart)`],
        root: true,
    };
}

/** Where the restart stamps live: the fingerprint of the config each runtime was last restarted with. */
const STAMP_DIR = "/var/lib/pulumi-nvidia-gpu/restarted";

/** `systemctl restart` cannot work without systemd as PID 1; say so instead of reporting a restart that never happened. */
const SYSTEMD_REQUIRED = sh`if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
    rollback
    echo "error: this host does not run systemd, so $service cannot be restarted; the previous configuration was put back" >&2
    exit 9
fi`;

/** Rootless Docker: the user's daemon restarted through `systemctl --user`, as NVIDIA's guide does it. */
export function rootlessRestartStep(user: string, daemonJson: RenderResult, revision = ""): PlanStep {
    const stamp = `${backupPath(daemonJson.path, true).replace(/[^/]*$/, "")}restarted`;
    return {
        name: "docker-rootless-restart",
        description: `restart ${user}'s rootless Docker if its daemon.json changed`,
        script: script(
            sh`stamp=${stamp}`,
            sh`want=${sha256(`${sha256(daemonJson.text)}\n${revision}`)}`,
            sh`if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then echo "unchanged: $stamp"; exit 0; fi`,
            sh`uid=$(id -u)`,
            sh`export XDG_RUNTIME_DIR="/run/user/$uid" DOCKER_HOST="unix:///run/user/$uid/docker.sock"`,
            sh`rollback() {
    ${rollbackFragment(daemonJson.path, true)}
    systemctl --user reset-failed docker >/dev/null 2>&1 || true
    systemctl --user restart docker || true
}`,
            // Quick re-applies hit systemd's start limit on the user unit too.
            sh`systemctl --user reset-failed docker >/dev/null 2>&1 || true`,
            sh`before=$(systemctl --user show -p MainPID --value docker 2>/dev/null || echo 0)`,
            sh`if ! out=$(systemctl --user restart docker 2>&1); then
    logs=$(journalctl --user -u docker -n 30 --no-pager 2>/dev/null || true)
    rollback
    echo "error: systemctl --user restart docker failed for $(id -un): $out; the previous daemon.json was restored. Its log: $logs" >&2
    exit 6
fi`,
            sh`n=0; until docker info >/dev/null 2>&1; do
    n=$((n + 1))
    if [ "$n" -ge 60 ]; then
        logs=$(journalctl --user -u docker -n 30 --no-pager 2>/dev/null || true)
        rollback
        echo "error: rootless Docker of $(id -un) did not come back; the previous daemon.json was restored. Its log: $logs" >&2
        exit 6
    fi
    sleep 1
done`,
            sh`after=$(systemctl --user show -p MainPID --value docker 2>/dev/null || echo 0)`,
            sh`if [ "$after" = 0 ] || [ "$after" = "$before" ]; then
    echo "error: rootless Docker of $(id -un) was not restarted (main PID $before before, $after after)" >&2
    exit 6
fi`,
            sh`mkdir -p "$(dirname "$stamp")"; printf '%s' "$want" > "$stamp"`,
            sh`echo "restarted rootless docker (main PID $before -> $after)"`,
        ),
        undoScript: script(sh`rm -f ${stamp}`),
        changes: ["service docker (user, restart)"],
        root: false,
    };
}

/**
 * Applies `--set` edits to the toolkit config when the file did not exist when the plan was made
 * (the toolkit package creates it during the same run): NVIDIA's own tool edits the fresh file. It
 * leaves a marker, so that a later plan of the converged host repeats this very step (same inputs,
 * nothing to run) instead of a rendered write of the same bytes.
 */
export function toolkitConfigOnHostStep(settings: ToolkitSetting[]): PlanStep {
    const args = settings.map((s) => `${s.key}=${Array.isArray(s.value) ? s.value.join(",") : String(s.value)}`).flatMap((kv) => ["--set", kv]);
    const marker = `${backupPath(TOOLKIT_CONFIG, false)}.by-nvidia-ctk`;
    return {
        name: "toolkit-config",
        description: `toolkit config: ${settings.map((s) => s.key).join(", ")} (file created by the package install)`,
        script: script(
            sh`config=${TOOLKIT_CONFIG}`,
            sh`before=$(sha256sum "$config" 2>/dev/null | cut -d ' ' -f 1 || true)`,
            sh`nvidia-ctk config --config-file "$config" --in-place ${args}`,
            sh`after=$(sha256sum "$config" | cut -d ' ' -f 1)`,
            sh`mkdir -p "$(dirname ${marker})"; : > ${marker}`,
            sh`if [ "$before" = "$after" ]; then echo unchanged; else echo "changed $config"; fi`,
        ),
        undoScript: script(sh`rm -f ${marker}`),
        changes: [TOOLKIT_CONFIG],
        root: true,
    };
}

/** Where nvidia-ctk and the `nvidia-cdi-refresh` units of toolkit >= 1.18 write the spec. */
export const DEFAULT_CDI_SPEC = "/var/run/cdi/nvidia.yaml";
const CDI_MARKER = "/var/lib/pulumi-nvidia-gpu/cdi-spec-written";

/**
 * The CDI spec for the GPUs present, and its device names. Toolkit >= 1.18 ships `nvidia-cdi-refresh`
 * units that write the default spec themselves: where they exist, the step runs the unit instead of
 * writing a second spec with the same devices (two specs naming `nvidia.com/gpu=0` make every CDI
 * runtime refuse both: "conflicting device"). Temp files are removed on every path, including the
 * early "unchanged" one, and those an earlier version of this step leaked are cleaned up.
 */
export function cdiSpecStep(requested = DEFAULT_CDI_SPEC): PlanStep {
    // Only a spec file in a CDI folder: `/etc/passwd` or `-x` never reach mktemp, mv or rm (issue 14).
    const output = validateCdiSpecOutput(requested, "output");
    return {
        name: "cdi-spec",
        description: `CDI spec ${output} for Podman, Docker CDI and CDI mode`,
        script: script(
            sh`output=${output}`,
            sh`marker=${CDI_MARKER}`,
            sh`dir=$(dirname -- "$output"); base=$(basename -- "$output")`,
            // A folder this step creates goes again on destroy (issue 22: /run/cdi was left behind).
            recordCreatedDirs(sh`"$dir"`),
            sh`mkdir -p -- "$dir"`,
            sh`find "$dir" -maxdepth 1 -name "$base.??????.yaml" -type f -delete`,
            sh`if [ "$output" = ${DEFAULT_CDI_SPEC} ] && systemctl cat nvidia-cdi-refresh.service >/dev/null 2>&1; then
    systemctl enable nvidia-cdi-refresh.path >/dev/null 2>&1 || true
    if ! out=$(systemctl restart nvidia-cdi-refresh.service 2>&1); then
        echo "error: nvidia-cdi-refresh.service failed: $out $(journalctl -u nvidia-cdi-refresh -n 5 --no-pager 2>/dev/null)" >&2; exit 7
    fi
    [ -s "$output" ] || { echo "error: nvidia-cdi-refresh.service ran but wrote no $output" >&2; exit 7; }
    rm -f "$marker"
    echo "unchanged $output (written by nvidia-cdi-refresh)"
else
    tmp=$(mktemp "$output.XXXXXX.yaml")
    if ! err=$(nvidia-ctk cdi generate --output="$tmp" 2>&1 >/dev/null); then
        rm -f "$tmp"; echo "error: nvidia-ctk cdi generate failed: $(printf '%s\\n' "$err" | tail -n 3)" >&2; exit 7
    fi
    if [ -e "$output" ] && cmp -s "$tmp" "$output"; then
        rm -f "$tmp"; echo "unchanged $output"
    else
        chmod 0644 "$tmp"; mv -f "$tmp" "$output"; echo "changed $output"
    fi
    mkdir -p "$(dirname "$marker")"; printf '%s\\n' "$output" > "$marker"
fi`,
            sh`nvidia-ctk cdi list 2>/dev/null | sed 's/^/cdi-device /'`,
        ),
        // Only a spec this step wrote is removed; one that nvidia-cdi-refresh owns stays.
        undoScript: script(
            sh`output=${output}`,
            sh`marker=${CDI_MARKER}`,
            sh`dir=$(dirname -- "$output"); base=$(basename -- "$output")`,
            sh`if [ -d "$dir" ]; then find "$dir" -maxdepth 1 -name "$base.??????.yaml" -type f -delete; fi`,
            sh`if [ -f "$marker" ] && [ "$(cat "$marker")" = "$output" ]; then rm -f -- "$output"; echo "removed $output"; fi`,
            sh`rm -f "$marker"`,
            REMOVE_CREATED_DIRS,
        ),
        changes: [output],
        root: true,
    };
}

/** Checks that each configured runtime really knows the nvidia runtime; prints one line per runtime. */
export function verifyRuntimesStep(runtimes: Array<"docker" | "containerd" | "crio">, runtimeName: string, revision = ""): PlanStep {
    const checks: Record<string, ShellFragment> = {
        docker: sh`docker info --format '{{json .Runtimes}}' | grep -qF "\\"$name\\"" || { echo "error: docker info does not list the $name runtime" >&2; exit 8; }
echo "docker: $name runtime registered"`,
        containerd: sh`containerd config dump | grep -qF "runtimes.$name]" || { echo "error: containerd config dump has no $name runtime" >&2; exit 8; }
echo "containerd: $name runtime registered"`,
        crio: sh`{ crio status config 2>/dev/null || crio config 2>/dev/null; } | grep -qF "runtimes.$name]" || { echo "error: crio has no $name runtime" >&2; exit 8; }
echo "crio: $name runtime registered"`,
    };
    return {
        name: "verify-runtimes",
        description: `check that ${runtimes.join(", ")} ${runtimes.length === 1 ? "lists" : "list"} the ${runtimeName} runtime`,
        // The revision (the config files' write generations) makes the check run again after every repair.
        script: script(sh`name=${runtimeName}`, sh`revision=${revision}`, sh`: "$revision"`, ...runtimes.map((r) => checks[r])),
        changes: [],
        root: true,
    };
}
