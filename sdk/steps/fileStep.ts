import { BACKUP_ROOT, STATE_ROOT, backupPath } from "./backupPath";
import { createHash } from "node:crypto";
import { RenderResult } from "./renderResult";
import { ShellFragment, heredoc, lines, script, sh } from "../shell/shellScript";
import { PlanStep } from "./planStep";

export function sha256(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The checksum guard's value for a file that did not exist when it was read. */
export const ABSENT = "absent";

export interface FileStepOptions {
    /**
     * The file's checksum when it was read for the preview (`sha256` of `result.previous`, or
     * ABSENT). The write is refused if the host's file has changed since. `undefined` turns the
     * guard off (files this library owns alone, such as drop-ins).
     */
    guard?: string;
    /** A command that checks the new file before it replaces the old one; `"$tmp"` names the new file. */
    validate?: ShellFragment;
    /** Mode for a new file. Default 0644; an existing file keeps its mode and owner. */
    mode?: string;
    /** Mode the file always gets, new or existing: 0600 for a file that holds credentials. */
    forceMode?: string;
    /** The file belongs to this user (rootless Docker): created with that owner, and run without root. */
    owner?: string;
    /** Run after the undo restored the original, e.g. a restart of the daemon that reads the file. */
    afterUndo?: ShellFragment;
    /** Run after a write that changed the file (not when it was already as rendered), e.g. `systemctl daemon-reload`. */
    afterWrite?: ShellFragment;
    /**
     * The write generation to record on the host when the step runs (see guardedFileStep.ts): part of
     * the step's inputs, so a plan that sees drift makes the repairing step differ from the last run.
     */
    generation?: number;
}

/**
 * A step that writes one rendered file atomically: checksum guard, first-time backup of the
 * original, a `.prev` copy for rollback, validation of the new file, then `mv` into place.
 * Its undo restores the original byte for byte (or removes a file that did not exist).
 */
export function fileStep(name: string, description: string, result: RenderResult, options: FileStepOptions = {}): PlanStep {
    const target = result.path;
    const backup = backupPath(target, options.owner !== undefined);
    const content = result.text;
    const body = lines(
        sh`target=${target}`,
        sh`backup=${backup}`,
        sh`new_sum=${sha256(content)}`,
        sh`expected=${options.guard ?? "any"}`,
        // One host-wide lock around read-check-write: of two applies planned from the same snapshot, the
        // second waits, then finds the file changed and refuses, instead of silently losing the first's write.
        lockFragment(options.owner !== undefined),
        sh`if [ -e "$target" ]; then current=$(sha256sum "$target" | cut -d ' ' -f 1); else current=${ABSENT}; fi`,
        recordGenerationFragment(options.generation),
        sh`if [ "$current" = "$new_sum" ]; then record_generation; echo "unchanged $target"; exit 0; fi`,
        sh`if [ "$expected" != any ] && [ "$current" != "$expected" ]; then
    echo "error: $target changed since it was read for the preview (sha256 $current, expected $expected); nothing was written. Run the preview again to see the new diff." >&2
    exit 3
fi`,
        sh`mkdir -p "$(dirname "$target")" "$(dirname "$backup")"`,
        BACKUP_ONCE,
        sh`rm -f "$backup.prev" "$backup.prev-absent"`,
        // .prev keeps what the file was before this write: rollback uses it, and the next preview reads it
        // to recompute this write's checksum guard, so an applied plan previews as unchanged.
        sh`if ! { if [ -e "$target" ]; then cp -p "$target" "$backup.prev"; else : > "$backup.prev-absent"; fi; }; then
    rm -f "$backup.prev" "$backup.prev-absent"; echo "error: could not save the current $target for rollback (is $(dirname "$backup") full?); nothing was written" >&2; exit 13
fi`,
        sh`tmp=$(mktemp "$target.nvidia-gpu.XXXXXX")`,
        sh`trap 'rm -f "$tmp"' EXIT`,
        sh`cat > "$tmp" ${heredoc(content, name)}`,
        content.endsWith("\n") ? sh`:` : sh`truncate -s -1 "$tmp"`,
        sh`if [ -e "$target" ]; then chmod "$(stat -c %a "$target")" "$tmp"; chown "$(stat -c %u:%g "$target")" "$tmp"; else chmod ${options.mode ?? "0644"} "$tmp"; fi`,
        options.forceMode === undefined ? sh`:` : sh`chmod ${options.forceMode} "$tmp"`,
        options.validate
            ? sh`if ! validation=$(${options.validate} 2>&1); then
    echo "error: the new $target is not valid, so it was not written: $validation" >&2
    exit 4
fi`
            : sh`:`,
        sh`sync -- "$tmp" 2>/dev/null || sync`,
        // Recorded before the write: a full backup folder stops the step here, with the file untouched.
        sh`record_generation`,
        sh`mv -f "$tmp" "$target"`,
        sh`trap - EXIT`,
        sh`: > "$backup.changed"`,
        sh`echo "changed $target"`,
        // Only where asked: every other file step's script stays byte for byte as it was (their inputs unchanged).
        ...(options.afterWrite === undefined ? [] : [options.afterWrite]),
    );
    return {
        name,
        description,
        script: script(body),
        undoScript: restoreScript(target, backup, options.afterUndo),
        changes: [target],
        root: options.owner === undefined,
        files: [result],
    };
}

/**
 * Restores the original file byte for byte from its backup, or removes a file we created. A backup whose
 * recorded checksum does not match (or that has none: an interrupted copy) is never restored: the step
 * says so and keeps the current file.
 */
export function restoreScript(target: string, backup: string, after?: ShellFragment): string {
    return script(restoreFragment(target, backup), after ?? sh`:`);
}

/** restoreScript's body, for scripts that restore a file after other work (a package purge). Takes the host lock. */
export function restoreFragment(target: string, backup: string): ShellFragment {
    const userOwned = !backup.startsWith(`${STATE_ROOT}/`);
    return lines(
        sh`target=${target}`,
        sh`backup=${backup}`,
        lockFragment(userOwned),
        RESTORE_FROM_BACKUP,
        sh`rm -f "$backup.orig" "$backup.orig.sha256" "$backup.absent" "$backup.prev" "$backup.prev-absent" "$backup.changed" "$backup.gen" "$backup.by-nvidia-ctk"`,
    );
}

/** Puts `$target` back from `$backup.orig` (its checksum checked), or removes it when `$backup.absent` says we created it. */
export const RESTORE_FROM_BACKUP: ShellFragment = sh`if [ -e "$backup.orig" ]; then
    recorded=$(cat "$backup.orig.sha256" 2>/dev/null || true)
    actual=$(sha256sum < "$backup.orig" | cut -d ' ' -f 1)
    if [ "$recorded" != "$actual" ]; then
        echo "error: the backup $backup.orig does not match its recorded checksum (\${recorded:-none recorded}, now $actual): it was not restored, and $target was kept as it is. Restore the file by hand, then remove $backup.orig." >&2
        exit 12
    fi
    tmp=$(mktemp "$target.nvidia-gpu.XXXXXX")
    cp -p "$backup.orig" "$tmp" && sync -- "$tmp" 2>/dev/null; mv -f "$tmp" "$target"
    echo "restored $target"
elif [ -e "$backup.absent" ]; then
    rm -f "$target"
    echo "removed $target"
fi`;

/**
 * The first-time backup of a file that something else is about to write (a package's install script), in a
 * subshell that takes the host lock and lets it go: the backup is taken, verified and recorded as BACKUP_ONCE
 * does, and restoreFragment gives it back.
 */
export function backupOnceFragment(target: string, backup: string): ShellFragment {
    return sh`(
    target=${target}
    backup=${backup}
    ${lockFragment(false)}
    mkdir -p "$(dirname "$backup")"
    if [ -e "$target" ]; then current=$(sha256sum "$target" | cut -d ' ' -f 1); else current=${ABSENT}; fi
    ${BACKUP_ONCE}
)`;
}

/**
 * The first-time backup of the original: copied to a temp file, flushed, checked against the file, renamed
 * into place, and its checksum recorded last. A backup without a matching checksum (a copy cut short by a
 * full disk or a dropped session) is redone from the file, which is still the original: nothing is written
 * before the backup is complete.
 */
export const BACKUP_ONCE = sh`if [ ! -e "$backup.absent" ] && { [ ! -e "$backup.orig" ] || [ "$(cat "$backup.orig.sha256" 2>/dev/null)" != "$(sha256sum < "$backup.orig" | cut -d ' ' -f 1)" ]; }; then
    if [ -e "$target" ]; then
        rm -f "$backup.orig" "$backup.orig.sha256"
        btmp=$(mktemp "$backup.orig.XXXXXX")
        if ! cp -p "$target" "$btmp"; then
            rm -f "$btmp"; echo "error: could not back up $target to $backup.orig (is $(dirname "$backup") full?); nothing was written" >&2; exit 13
        fi
        sync -- "$btmp" 2>/dev/null || sync
        bsum=$(sha256sum < "$btmp" | cut -d ' ' -f 1)
        if [ "$bsum" != "$current" ]; then
            rm -f "$btmp"; echo "error: the backup of $target is incomplete (is $(dirname "$backup") full?); nothing was written" >&2; exit 13
        fi
        mv -f "$btmp" "$backup.orig"
        if ! { printf '%s\n' "$bsum" > "$backup.orig.sha256.tmp" && mv -f "$backup.orig.sha256.tmp" "$backup.orig.sha256"; }; then
            rm -f "$backup.orig" "$backup.orig.sha256.tmp"; echo "error: could not record the backup's checksum; nothing was written" >&2; exit 13
        fi
    else
        : > "$backup.absent"
    fi
fi`;

/** `record_state FILE VALUE`: writes one of this library's state files atomically (see recordGenerationFragment). */
export const RECORD_STATE: ShellFragment = sh`record_state() {
    mkdir -p "$(dirname "$1")"
    if ! { printf '%s\n' "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"; }; then
        rm -f "$1.tmp"; echo "error: could not record $1 (is $(dirname "$1") full?); $target was not written" >&2; exit 13
    fi
}`;

/**
 * Shell defining `record_generation` (see guardedFileStep.ts), and `record_state FILE VALUE`, which writes one
 * of this library's state files atomically: a full backup folder stops the step with a clear error, before
 * the target is written.
 */
export function recordGenerationFragment(generation: number | undefined, alwaysRecordState = false): ShellFragment {
    if (generation === undefined && !alwaysRecordState) return sh`record_generation() { :; }`;
    return lines(
        RECORD_STATE,
        generation === undefined
            ? sh`record_generation() { :; }`
            : sh`record_generation() { record_state "$backup.gen" ${generation}; rm -f "$backup.by-nvidia-ctk"; }`,
    );
}

/** Takes the host-wide lock (flock) for the rest of the script: root's under /var/lib/pulumi-nvidia-gpu, a user's beside the backups. */
export function lockFragment(userOwned: boolean): ShellFragment {
    const lock = userOwned ? sh`lock="$(dirname "$backup")/.lock"` : sh`lock=${`${STATE_ROOT}/lock`}`;
    return lines(
        lock,
        sh`mkdir -p "$(dirname "$lock")"`,
        sh`if command -v flock >/dev/null 2>&1; then
    exec 9>>"$lock"
    flock -w 600 9 || { echo "error: another apply holds $lock for over 10 minutes" >&2; exit 14; }
fi`,
    );
}

// Where backups live is step mechanics (sdk/steps), which sdk/host may import too.
export { BACKUP_ROOT, STATE_ROOT, backupPath };

/** Shell that puts back the version a file had before the last write (used when a daemon fails to restart). */
export function rollbackFragment(target: string, userOwned = false): ShellFragment {
    const backup = backupPath(target, userOwned);
    return sh`if [ -e ${backup + ".prev"} ]; then cp -p ${backup + ".prev"} ${target}; elif [ -e ${backup + ".prev-absent"} ]; then rm -f ${target}; fi`;
}
