import { ShellFragment, lines, script, sh } from "../shell/shellScript";
import { backupPath } from "./backupPath";
import { STATE_ROOT } from "./fileStep";
import { PlanStep } from "./planStep";

/*
 * DESTROY LEAVES NO TRACE (issue 22): after the last undo the host has neither this library's state folder nor a
 * folder a step created (`/run/cdi` for the CDI spec), while one that was there before stays.
 */

/**
 * Markers of the folders a step created, by path: `created-dirs/etc/pki/.created` for `/etc/pki`. A marker is a file
 * inside its folder's mirror, so a created folder and a created sub-folder (`mkdir -p /etc/pki/rpm-gpg`) both have one.
 */
const CREATED_DIRS = `${STATE_ROOT}/created-dirs`;

/** `record_created_dir DIR`: marks DIR and each missing parent as created by this plan (recordCreatedDirs). */
export const RECORD_CREATED_DIR: ShellFragment = sh`record_created_dir() {
    created=${CREATED_DIRS}
    d=$1
    while [ ! -e "$d" ] && [ ! -L "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do
        # A marker of the first form (a file at created-dirs/run/cdi) already marks it.
        if [ ! -e "$created$d/.created" ] && [ ! -f "$created$d" ]; then mkdir -p "$created$d"; : > "$created$d/.created"; fi
        d=$(dirname "$d")
    done
}`;

/**
 * Shell that marks each missing folder (a quoted path or `"$dir"`) and each of its missing parents as created by this
 * plan, before anything creates them: `mkdir -p` of a key's folder on a host without /etc/pki makes both.
 */
export function recordCreatedDirs(...dirs: ShellFragment[]): ShellFragment {
    return lines(RECORD_CREATED_DIR, ...dirs.map((d) => sh`record_created_dir ${d}`));
}

/**
 * Shell that removes the marked folders once they are empty (another owner's files keep them), deepest first, and
 * their markers. A marker of the first form (a file at `created-dirs/run/cdi`) is still honoured.
 */
export const REMOVE_CREATED_DIRS: ShellFragment = sh`if [ -d ${CREATED_DIRS} ]; then
    find ${CREATED_DIRS} -type f | awk -F/ '{ print NF " " $0 }' | sort -rn | cut -d ' ' -f 2- | while IFS= read -r m; do
        case $m in */.created) d=\${m%/.created} ;; *) d=$m ;; esac
        d=\${d#${CREATED_DIRS}}
        if [ ! -e "$d" ] || rmdir "$d" 2>/dev/null; then rm -f "$m"; fi
    done
fi`;

const HEADER = /^#!\/bin\/sh\nset -eu\n/;
const body = (...fragments: ShellFragment[]) => script(...fragments).replace(HEADER, "");

/**
 * A step that writes into `dir`, which the host may not have (containerd's conf.d): the folder is marked when the step
 * makes it, and the step's undo removes it once it is empty.
 */
export function removesCreatedDir(step: PlanStep, dir: string): PlanStep {
    return {
        ...step,
        script: step.script.replace(HEADER, (h) => h + body(recordCreatedDirs(sh`${dir}`))),
        undoScript: step.undoScript === undefined ? undefined : step.undoScript + body(REMOVE_CREATED_DIRS),
    };
}

/**
 * A user's backups live beside the file (`~/.config/docker/.nvidia-gpu-backup`, with its `.lock`): the undo of a
 * step run as that user removes the folder once nothing but the lock is left in it.
 */
function userBackupCleanup(step: PlanStep): string {
    if (step.runAs === undefined) return "";
    const dirs = [...new Set((step.files ?? []).map((f) => backupPath(f.path, true).replace(/\/[^/]*$/, "")))];
    return dirs
        .map((dir) =>
            body(sh`dir=${dir}
if [ -d "$dir" ] && [ -w "$dir" ]; then
    find "$dir" -mindepth 1 -depth -type d -empty -delete 2>/dev/null || true
    if [ "$(ls -A "$dir")" = .lock ] && command -v flock >/dev/null 2>&1; then
        (flock -n 9 && rm -f "$dir/.lock") 9<"$dir/.lock" 2>/dev/null || true
    fi
    rmdir "$dir" 2>/dev/null || true
fi`),
        )
        .join("");
}

/**
 * Appended to every undo: the state folder's empty sub-folders go, and so do the lock and the folder itself once
 * nothing else is left in it (taken without waiting: a stack still applying keeps its lock).
 */
export const CLEANUP = `# The state this library kept on the host goes once it is empty (issue 22).
if [ -d ${STATE_ROOT} ] && [ -w ${STATE_ROOT} ]; then
    find ${STATE_ROOT} -mindepth 1 -depth -type d -empty -delete 2>/dev/null || true
    if [ "$(ls -A ${STATE_ROOT})" = lock ] && command -v flock >/dev/null 2>&1; then
        (flock -n 9 && rm -f ${STATE_ROOT}/lock) 9<${STATE_ROOT}/lock 2>/dev/null || true
    fi
    rmdir ${STATE_ROOT} 2>/dev/null || true
fi
if [ -d /run/pulumi-nvidia-gpu ] && [ -w /run/pulumi-nvidia-gpu ]; then rmdir /run/pulumi-nvidia-gpu 2>/dev/null || true; fi
`;

/** Every step's undo, followed by the state cleanup; the undo's own exit status is the script's. */
export function withStateCleanup(steps: PlanStep[]): PlanStep[] {
    return steps.map((step) => {
        if (step.undoScript === undefined || step.undoScript.includes(CLEANUP)) return step;
        const undo = step.undoScript.replace(/^#!\/bin\/sh\n/, "");
        // shellcheck: helpers the undo defines but does not call are not unreachable code (SC2317).
        // Not `( … ) || rc=$?`: inside an AND-OR list the undo's own `set -e` would be ignored.
        return {
            ...step,
            undoScript: `#!/bin/sh\nset -u\n# shellcheck disable=SC2317\n(\n${undo}\n)\nrc=$?\n${CLEANUP}${userBackupCleanup(step)}exit "$rc"\n`,
        };
    });
}
