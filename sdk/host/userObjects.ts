import { ShellFragment, lines, sh, textOf } from "../shell/shellScript";
import { backupPath } from "../steps/backupPath";

/*
 * A USER'S OWN MANAGED OBJECTS (issue 22). Rootless Docker's daemon is its user's systemd unit (`systemctl --user`),
 * which root's systemctl does not list, and the step that restarts it runs as that user, who cannot write root's
 * records under /var/lib/pulumi-nvidia-gpu. So that step records its objects beside the user's own backups
 * (`~/.config/docker/.nvidia-gpu-backup/objects/`), and the host read observes them as that user: directly when the
 * SSH user is that user, through `runuser` when it is root. A sudo user who is neither cannot reach another user's
 * systemd: the read then takes the last record as what it sees, so the preview shows no drift of them, and no change.
 */

/** The managed steps that run as a user: what each observes, run as that user. */
export const USER_OBSERVERS: Record<string, (user: string) => ShellFragment> = {
    "docker-rootless-restart": (user) => sh`user_service_states ${user} docker`,
};

/** `unit (user NAME): active-state, enabled-state` per unit of the current user's systemd; run as that user. */
export const USER_OBSERVER_FUNCTIONS: ShellFragment = sh`user_service_states() {
    owner=$1; shift
    XDG_RUNTIME_DIR=/run/user/$(id -u); export XDG_RUNTIME_DIR
    for u in "$@"; do
        if command -v systemctl >/dev/null 2>&1; then
            a=$(systemctl --user is-active "$u" 2>/dev/null || true); e=$(systemctl --user is-enabled "$u" 2>/dev/null || true)
        else
            a=""; e=""
        fi
        printf '%s (user %s): %s, %s\\n' "$u" "$owner" "\${a:-unknown}" "\${e:-not-found}"
    done
}`;

/** Where a user step records its objects: beside the backups of the user's file it manages (`file`). */
export function userObjectRecord(file: string, step: string): string {
    return `${backupPath(file, true).replace(/\/[^/]*$/, "")}/objects/${step}`;
}

/**
 * Read-only shell for the snapshot, after the objects marker: for each user step recorded beside `file`'s backups, the
 * objects as `user` sees them now, the record and its generation (the lines managedObjects.ts's parseObjects reads).
 */
export function userObjectsReadFragment(file: string, user: string): ShellFragment {
    return lines(
        ...Object.entries(USER_OBSERVERS).map(([step, observe]) => {
            const record = userObjectRecord(file, step);
            const observer = `${textOf(USER_OBSERVER_FUNCTIONS)}\n${textOf(observe(user))}`;
            return sh`if [ -r ${record} ]; then
    if [ "$(id -un)" = ${user} ]; then observed=$(sh -c ${observer} | base64 -w0)
    elif [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1; then observed=$(runuser -u ${user} -- sh -c ${observer} | base64 -w0)
    else observed=$(base64 -w0 < ${record})
    fi
    printf 'observed %s %s\\n' ${step} "$observed"
    printf 'applied %s %s\\n' ${step} "$(base64 -w0 < ${record})"
    if [ -r ${record + ".gen"} ]; then printf 'objgen %s %s\\n' ${step} "$(head -c 20 ${record + ".gen"} | tr -cd 0-9)"; fi
fi`;
        }),
    );
}
