import { USER_OBSERVERS, USER_OBSERVER_FUNCTIONS, userObjectRecord } from "../host/userObjects";
import { HostSnapshot } from "../host/snapshot";
import { script, sh } from "../shell/shellScript";
import { describeDrift, objectDrift, objectGeneration } from "./managedObjectStep";
import { PlanStep } from "./planStep";

/*
 * managedObjectStep.ts's invariant for a step that runs as a user (rootless Docker's restart, run as alice): its
 * objects are the user's own systemd units, recorded beside the user's backups of `file` (sdk/host/userObjects.ts).
 * Converged: the recorded generation, the same script. Drifted (alice's docker stopped or disabled by hand): the next
 * generation, so the engine runs the step, which first puts back the recorded active / enabled state as the user.
 */

/** The user step `step` (run as `user`) with its generation, its record beside `file`'s backups and its drift. */
export function manageUserObjects(step: PlanStep, user: string, file: string, snapshot: HostSnapshot | undefined): PlanStep {
    const observe = USER_OBSERVERS[step.name];
    if (observe === undefined) return step;
    const state = snapshot?.objects?.[step.name];
    const record = userObjectRecord(file, step.name);
    const generation = objectGeneration(state);
    const body = (text: string) => text.replace(/^#!\/bin\/sh\n(set -eu\n)?/, "");
    const recordIt = body(
        script(
            sh`mkdir -p "$(dirname ${record})"`,
            sh`{ ${observe(user)}; } > ${record + ".tmp"} && mv -f ${record + ".tmp"} ${record}`,
            sh`printf '%s\\n' ${generation} > ${record + ".gen.tmp"} && mv -f ${record + ".gen.tmp"} ${record + ".gen"}`,
        ),
    );
    const header = `#!/bin/sh\nset -eu\n# managed object: ${step.name} (user ${user}), generation ${generation}\n`;
    const functions = body(script(USER_OBSERVER_FUNCTIONS, RESTORE_USER_SERVICES));
    const scriptText = `${header}${functions}restore_user_services ${record}\n${SUBSHELL}(\n${body(step.script)}\n)\n${recordIt}`;
    const forget = body(script(sh`rm -f ${record} ${record + ".gen"}`, sh`rmdir "$(dirname ${record})" 2>/dev/null || true`));
    const undoScript = `#!/bin/sh\nset -eu\n${step.undoScript === undefined ? "" : `${SUBSHELL}(\n${body(step.undoScript)}\n)\n`}${forget}`;
    return { ...step, script: scriptText, undoScript, drift: objectDrift(state).map(describeDrift) };
}

/** The step's own script runs in a subshell, so that its `exit 0` ("unchanged") still ends in the record. */
const SUBSHELL = "# shellcheck disable=SC2317\n";

/**
 * Puts back the active and enabled state the step recorded for the user's units (`unit (user NAME): active, enabled`
 * lines), as that user, before the step runs: alice's docker stopped or disabled by hand comes back.
 */
const RESTORE_USER_SERVICES = sh`restore_user_services() {
    [ -r "$1" ] && command -v systemctl >/dev/null 2>&1 || return 0
    XDG_RUNTIME_DIR=/run/user/$(id -u); export XDG_RUNTIME_DIR
    while IFS= read -r line; do
        unit=\${line%% (user *}; st=\${line#*: }; want_active=\${st%%, *}; want_enabled=\${st#*, }
        case "$unit" in *" "*|*:*|"") continue ;; esac
        if [ "$want_enabled" = enabled ] && [ "$(systemctl --user is-enabled "$unit" 2>/dev/null || true)" != enabled ]; then
            systemctl --user enable "$unit" >/dev/null 2>&1 && echo "enabled $unit again (disabled by hand)"
        fi
        if [ "$want_active" = active ] && ! systemctl --user is-active --quiet "$unit"; then
            systemctl --user reset-failed "$unit" >/dev/null 2>&1 || true
            systemctl --user start "$unit" && echo "started $unit again (stopped by hand)"
        fi
    done < "$1"
}`;
