import { RenderResult } from "../render/renderResult";
import { ToolkitSetting } from "../render/toolkitConfig";
import { ShellFragment, lines, script, sh } from "../shell/shellScript";
import { backupPath, rollbackFragment, sha256 } from "./fileStep";
import { PlanStep } from "./planStep";

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
 * (a stamp of their checksums), validates first, waits until the daemon answers, and on failure
 * puts the previous files back, restarts again and fails with the daemon's own error.
 */
export function restartStep(service: "docker" | "containerd" | "crio", files: RenderResult[]): PlanStep {
    const control = SERVICES[service];
    const stamp = `/var/lib/pulumi-nvidia-gpu/restarted/${service}`;
    const fingerprint = sha256(files.map((f) => `${f.path}\n${sha256(f.text)}`).join("\n"));
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
            sh`${control.restart} || true`,
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
            sh`mkdir -p "$(dirname "$stamp")"; printf '%s' "$want" > "$stamp"`,
            sh`rm -f ${files.map((f) => backupPath(f.path, false) + ".changed")}`,
            sh`echo "restarted $service"`,
        ),
        changes: [`service ${service} (restart)`],
        root: true,
    };
}

/** Rootless Docker: the user's daemon restarted through `systemctl --user`, as NVIDIA's guide does it. */
export function rootlessRestartStep(user: string, daemonJson: RenderResult): PlanStep {
    const stamp = `${backupPath(daemonJson.path, true).replace(/[^/]*$/, "")}restarted`;
    return {
        name: "docker-rootless-restart",
        description: `restart ${user}'s rootless Docker if its daemon.json changed`,
        script: script(
            sh`stamp=${stamp}`,
            sh`want=${sha256(daemonJson.text)}`,
            sh`if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then echo "unchanged: $stamp"; exit 0; fi`,
            sh`uid=$(id -u)`,
            sh`export XDG_RUNTIME_DIR="/run/user/$uid" DOCKER_HOST="unix:///run/user/$uid/docker.sock"`,
            sh`systemctl --user restart docker || true`,
            sh`n=0; until docker info >/dev/null 2>&1; do
    n=$((n + 1))
    if [ "$n" -ge 60 ]; then
        ${rollbackFragment(daemonJson.path, true)}
        systemctl --user restart docker || true
        echo "error: rootless Docker of $(id -un) did not come back; the previous daemon.json was restored: $(journalctl --user -u docker -n 10 --no-pager 2>/dev/null)" >&2
        exit 6
    fi
    sleep 1
done`,
            sh`mkdir -p "$(dirname "$stamp")"; printf '%s' "$want" > "$stamp"`,
            sh`echo "restarted rootless docker"`,
        ),
        changes: ["service docker (user, restart)"],
        root: false,
    };
}

/**
 * Applies `--set` edits to the toolkit config when the file did not exist when the plan was made
 * (the toolkit package creates it during the same run): NVIDIA's own tool edits the fresh file.
 */
export function toolkitConfigOnHostStep(settings: ToolkitSetting[]): PlanStep {
    const args = settings.map((s) => `${s.key}=${Array.isArray(s.value) ? s.value.join(",") : String(s.value)}`).flatMap((kv) => ["--set", kv]);
    return {
        name: "toolkit-config",
        description: `toolkit config: ${settings.map((s) => s.key).join(", ")} (file created by the package install)`,
        script: script(
            sh`before=$(sha256sum /etc/nvidia-container-runtime/config.toml 2>/dev/null | cut -d ' ' -f 1 || true)`,
            sh`nvidia-ctk config --config-file /etc/nvidia-container-runtime/config.toml --in-place ${args}`,
            sh`after=$(sha256sum /etc/nvidia-container-runtime/config.toml | cut -d ' ' -f 1)`,
            sh`if [ "$before" = "$after" ]; then echo unchanged; else echo "changed /etc/nvidia-container-runtime/config.toml"; fi`,
        ),
        changes: ["/etc/nvidia-container-runtime/config.toml"],
        root: true,
    };
}

/** Generates the CDI spec from the GPUs present (`nvidia-ctk cdi generate`) and lists its device names. */
export function cdiSpecStep(output = "/var/run/cdi/nvidia.yaml"): PlanStep {
    return {
        name: "cdi-spec",
        description: `CDI spec ${output} for Podman, Docker CDI and CDI mode`,
        script: script(
            sh`output=${output}`,
            sh`mkdir -p "$(dirname "$output")"`,
            sh`tmp=$(mktemp "$output.XXXXXX.yaml"); trap 'rm -f "$tmp"' EXIT`,
            sh`nvidia-ctk cdi generate --output="$tmp" >/dev/null 2>&1 || { echo "error: nvidia-ctk cdi generate failed: $(nvidia-ctk cdi generate --output="$tmp" 2>&1 | tail -n 3)" >&2; exit 7; }`,
            sh`if [ -e "$output" ] && cmp -s "$tmp" "$output"; then echo "unchanged $output"; else chmod 0644 "$tmp"; mv -f "$tmp" "$output"; echo "changed $output"; fi`,
            sh`trap - EXIT`,
            sh`nvidia-ctk cdi list 2>/dev/null | sed 's/^/cdi-device /'`,
        ),
        undoScript: script(sh`rm -f ${output}`),
        changes: [output],
        root: true,
    };
}

/** Checks that each configured runtime really knows the nvidia runtime; prints one line per runtime. */
export function verifyRuntimesStep(runtimes: Array<"docker" | "containerd" | "crio">, runtimeName: string): PlanStep {
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
        script: script(sh`name=${runtimeName}`, ...runtimes.map((r) => checks[r])),
        changes: [],
        root: true,
    };
}
