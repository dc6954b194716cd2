import { OBSERVER_FUNCTIONS } from "../host/managedObjects";
import { HostSnapshot } from "../host/snapshot";
import { PREAMBLE } from "../shell/preamble";
import { heredoc, script, sh, textOf } from "../shell/shellScript";
import { STATE_ROOT, backupPath } from "./backupPath";
import { BACKUP_ONCE, RECORD_STATE, RESTORE_FROM_BACKUP, lockFragment, sha256 } from "./fileStep";
import { RESTORE_SERVICES } from "./managedObjectStep";
import { RUN_FROM_STDIN_BODY, RUN_FROM_STDIN_FUNCTION } from "./invocation";
import { PlanStep } from "./planStep";
import { CLEANUP, RECORD_CREATED_DIR, REMOVE_CREATED_DIRS, withStateCleanup } from "./stateCleanup";

/*
 * SHARED HELPERS, ONCE PER HOST (issue 24: state size)
 *
 * remote.Command keeps a step's script twice in the state (as an input and again as an output), and most of every
 * script is the same shell: the backup/lock/restore logic of each file step, the package-manager helpers, the
 * observers of managed objects, the state cleanup of each undo. A fleet of N nodes then writes N times that text
 * into every checkpoint, and the engine rewrites the whole checkpoint after each resource operation.
 *
 * So a component's steps source one helpers file instead: its `helpers` step writes the file (drift in it is seen at
 * preview and repaired; its undo removes it, last), and every other root step has each
 * block below replaced by `. <file>` once and a call. The steps' own text, and every value in it, stays in the
 * state as before. Nothing else changes what runs: a definition block is defined by the file instead, and a code
 * block runs as a function of the same text, at the same place, with the same variables.
 * The plan itself (`gpu-node plan`, `gpu-node script`, the e2e runner) keeps self-contained scripts.
 */

/** A block of shell many step scripts repeat verbatim: function definitions, or code the file wraps as `name`. */
interface SharedBlock {
    text: string;
    /** The function the file wraps the code in, called where the block was; undefined for definitions. */
    call?: string;
}

const BLOCKS: SharedBlock[] = [
    { text: textOf(PREAMBLE) },
    { text: textOf(OBSERVER_FUNCTIONS) },
    { text: RESTORE_SERVICES },
    { text: textOf(RECORD_STATE) },
    { text: textOf(RECORD_CREATED_DIR) },
    { text: textOf(BACKUP_ONCE), call: "backup_once" },
    { text: textOf(lockFragment(false)), call: "take_host_lock" },
    { text: textOf(RESTORE_FROM_BACKUP), call: "restore_from_backup" },
    { text: textOf(REMOVE_CREATED_DIRS), call: "remove_created_dirs" },
    { text: CLEANUP.replace(/\n$/, ""), call: "remove_empty_state" },
].sort((a, b) => b.text.length - a.text.length); // longest first: no block is replaced inside a longer one

/** The helpers file's text: every shared block, as written in the steps or wrapped in its function. */
export function helpersText(): string {
    const body = BLOCKS.map((b) => (b.call === undefined ? b.text : `${b.call}() {\n${b.text}\n}`));
    // What each step's command line calls: reads the script from stdin and runs it, output folded (invocation.ts).
    body.push(`${RUN_FROM_STDIN_FUNCTION}() {\n${RUN_FROM_STDIN_BODY}\n}`);
    return `# pulumi-nvidia-gpu: shell helpers the steps of one component source (sdk/steps/sharedHelpers.ts).\n# Written by its helpers step, removed by its undo.\n${body.join("\n")}\n`;
}

/**
 * Writes the helpers file whole (this library owns it: no backup, no guard; the preview reads only its checksum). Converged when the host's file is the
 * text, at the generation its last write recorded; drifted (edited or removed after a write) it asks for the next
 * generation, so its inputs differ and the engine runs it (guardedFileStep.ts states the invariant).
 */
function helpersStep(path: string, snapshot: HostSnapshot): PlanStep {
    const text = helpersText();
    const recorded = snapshot.generations?.[path];
    const asWritten = snapshot.binaryFiles?.[path]?.sum === sha256(text);
    const generation = asWritten || recorded === undefined ? (recorded ?? 0) : recorded + 1;
    const gen = `${backupPath(path, false)}.gen`;
    return {
        name: "helpers",
        description: `the shell helpers the steps below source (${path})`,
        script: script(
            sh`# generation ${generation}`,
            sh`path=${path}`,
            sh`gen=${gen}`,
            sh`if [ -r "$path" ] && [ "$(sha256sum < "$path" | cut -d ' ' -f 1)" = ${sha256(text)} ]; then changed=no; else changed=yes; fi`,
            sh`if [ "$changed" = yes ]; then
    mkdir -p "$(dirname "$path")"
    tmp=$(mktemp "$path.XXXXXX")
    trap 'rm -f "$tmp"' EXIT
    cat > "$tmp" ${heredoc(text, "helpers")}
    chmod 0644 "$tmp"
    mv -f "$tmp" "$path"
    trap - EXIT
fi`,
            sh`mkdir -p "$(dirname "$gen")" && printf '%s\n' ${generation} > "$gen.tmp" && mv -f "$gen.tmp" "$gen"`,
            sh`if [ "$changed" = yes ]; then echo "changed $path"; else echo "unchanged $path"; fi`,
        ),
        undoScript: script(sh`rm -f ${path} ${gen}`, sh`echo "removed ${path}"`),
        changes: [path],
        root: true,
    };
}

/** Where a component's helpers file lives: one per component, so destroying one never takes another's away. */
export function helpersPath(component: string): string {
    return `${STATE_ROOT}/lib/${component.replace(/[^A-Za-z0-9_.-]/g, "_")}.sh`;
}

/** The script with every shared block replaced by its call, sourcing the helpers first; unchanged when none is in it. */
export function sourceHelpers(script: string, path: string): string {
    let out = script;
    for (const block of BLOCKS) out = out.split(block.text).join(block.call ?? "");
    if (out === script) return script;
    const firstLine = out.indexOf("\n") + 1;
    return `${out.slice(0, firstLine)}. ${path}\n${out.slice(firstLine)}`;
}

/**
 * The steps (their state cleanup already added) with a `helpers` step first that writes the helpers file; every root
 * step's script and undo source it, and its command line calls the file's runner. A step that runs as another user
 * keeps its whole script (the file is root's). A plan where no step shares anything comes back as it was.
 */
export function withSharedHelpers(steps: PlanStep[], component: string, snapshot: HostSnapshot): PlanStep[] {
    const path = helpersPath(component);
    const shared = steps.map((step) =>
        !step.root || step.runAs !== undefined
            ? step
            : {
                  ...step,
                  script: sourceHelpers(step.script, path),
                  sources: path,
                  undoScript: step.undoScript === undefined ? undefined : sourceHelpers(step.undoScript, path),
              },
    );
    if (shared.every((s, i) => s.script === steps[i].script && s.undoScript === steps[i].undoScript)) return steps;
    // Its undo runs last (it is the first step) and ends with the state cleanup, in full: nothing is left to source.
    const helpers = withStateCleanup([helpersStep(path, snapshot)]);
    return [...helpers, ...shared];
}
