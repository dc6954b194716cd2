import { backupPath, rollbackFragment, sha256 } from "../steps/fileStep";
import { PlanStep } from "../steps/planStep";
import { RenderResult } from "../steps/renderResult";
import { lines, script, sh } from "../shell/shellScript";
import { ServiceControl } from "./engine";

/**
 * Restarts a runtime only when its config files differ from those it was last restarted with
 * (a stamp of their checksums and write generations), validates first, checks that the daemon really
 * restarted (a new main PID, not the old daemon still answering), and on failure puts the previous
 * files back, restarts again and fails with the daemon's own error. Its undo drops the stamp, so a
 * later create after a destroy restarts again.
 */
export function restartStep(control: ServiceControl, files: RenderResult[], revision = ""): PlanStep {
    const service = control.unit;
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
