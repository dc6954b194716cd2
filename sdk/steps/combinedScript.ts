import { GpuConfigError } from "../errors";
import { PREAMBLE } from "../shell/preamble";
import { quote, script } from "../shell/shellScript";
import { PlanStep } from "./planStep";

/**
 * One POSIX sh script that runs a plan's steps in order, for `sudo sh install.sh` on a host that
 * Pulumi does not reach. Each step is a complete script that ends itself with `exit 0` when there
 * is nothing to do, so gluing them together would run only the first one: here each step's body is
 * a function whose body is a subshell, so its `exit` (and its traps and variables) end with it.
 *
 * The steps are called as plain commands, never inside `if`, `||` or `&&`: there POSIX sh ignores
 * `set -e` in everything the command runs, subshells included, and a failing line would go on.
 * The first step that fails stops the script with its exit status and a line naming it. Each step
 * reads stdin from /dev/null, so a command in it cannot eat the rest of a script piped into `sh`.
 * The calls come last, so a script cut off in a download defines functions and runs nothing.
 * The helpers most steps start with (retry, wait_for_lock) are defined once at the top instead:
 * subshells inherit them, and shellcheck, which ties each call to one definition of a name, would
 * otherwise call the unused copies unreachable (SC2317).
 */
export function combinedScript(steps: readonly PlanStep[], title: string): string {
    if (steps.length === 0) throw new GpuConfigError("steps", "the plan has no steps", "give at least one step");
    const asUser = steps.find((s) => s.runAs !== undefined);
    if (asUser)
        throw new GpuConfigError(
            `step ${asUser.name}`,
            `runs as ${asUser.runAs}, and one script runs as one user`,
            "run that step's script as its user, on its own",
        );
    const count = steps.length;
    const out: string[] = [
        "#!/bin/sh",
        `# ${oneLine(title)}: ${count} step${count === 1 ? "" : "s"}, run in order; run as root (sudo sh FILE).`,
        "# Each step runs in its own subshell: a step with nothing to do ends only itself, and the first",
        "# step that fails stops the script with its exit status.",
        "set -u",
        "",
    ];
    const bodies = steps.map((step) => bodyOf(step.script));
    if (bodies.some((b) => b.hoisted)) out.push(PREAMBLE_TEXT, "");
    steps.forEach((step, i) => {
        out.push(`# step ${i + 1}/${count}: ${oneLine(step.name)} — ${oneLine(step.description)}${step.rebootRequired ? " (may need a reboot)" : ""}`);
        out.push(`gpu_node_step_${i + 1}() (`);
        out.push(bodies[i].body);
        out.push(")", "");
    });
    out.push(
        "# gpu_node_check STATUS N NAME: stops the script, naming step N, when it failed.",
        "gpu_node_check() {",
        '    if [ "$1" -ne 0 ]; then',
        `        echo "error: step $2/${count} ($3) failed with exit status $1; the steps after it did not run" >&2`,
        '        exit "$1"',
        "    fi",
        "}",
        "",
    );
    steps.forEach((step, i) => {
        const label = quote(`${i + 1}/${count}: ${step.name}`);
        out.push(`echo "== step "${label}`, `gpu_node_step_${i + 1} </dev/null`, `gpu_node_check $? ${i + 1} ${quote(step.name)}`);
    });
    out.push(`echo "== done: ${count} step${count === 1 ? "" : "s"}"`);
    return `${out.join("\n")}\n`;
}

const HEADER = "#!/bin/sh\nset -eu\n";
const PREAMBLE_TEXT = script(PREAMBLE).slice(HEADER.length, -1);

/** A step's script without its `#!` line, and without the shared preamble (`hoisted`) when it starts with it. */
function bodyOf(text: string): { body: string; hoisted: boolean } {
    let body = text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1 || text.length) : text;
    const hoisted = body.startsWith(`set -eu\n${PREAMBLE_TEXT}\n`);
    if (hoisted) body = `set -eu\n${body.slice(`set -eu\n${PREAMBLE_TEXT}\n`.length)}`;
    if (body.endsWith("\n")) body = body.slice(0, -1);
    return { body: body.trim() === "" ? ":" : body, hoisted };
}

/** Names and descriptions go into comments, which end at a newline. */
function oneLine(text: string): string {
    return text.replace(/\s*\n\s*/g, " ");
}
