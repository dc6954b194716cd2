import { foldedOutput } from "../shell/foldedOutput";
import { quote } from "../shell/shellScript";
import { validateSudoPassword } from "../validate";
import { PlanStep } from "./planStep";

/** How the SSH user may become root. */
export type SudoMode = "root" | "passwordless" | "password";

/** The exact command line sent over SSH for a script, and what goes to its stdin. */
export interface Invocation {
    /** The command line: a few words. With `stdin` set, the script is not in it. */
    command: string;
    /**
     * The script, for the command's stdin (after the sudo password line when `passwordOnStdin`), or
     * undefined when the script travels in `command`.
     */
    stdin: string | undefined;
    /** True when the sudo password must be written to the command's stdin (never into argv or the script). */
    passwordOnStdin: boolean;
}

/** The helpers file's function (sdk/steps/sharedHelpers.ts) that does what RUN_SCRIPT_FROM_STDIN does. */
export const RUN_FROM_STDIN_FUNCTION = "run_from_stdin";

/** RUN_SCRIPT_FROM_STDIN's body, as the helpers file defines it. */
export const RUN_FROM_STDIN_BODY = `f=$(mktemp) || exit 1; trap 'rm -f "$f"' EXIT; cat > "$f" || exit 1; ${foldedOutput('sh "$f" </dev/null')}`;

/**
 * Reads the whole script from stdin into a temp file, then runs it with stdin closed: argv holds no
 * script, so a large config cannot hit the kernel's 128 KiB argument limit ("Argument list too long"),
 * and no command inside the script can swallow the rest of it from stdin. Output lines are folded
 * (foldedOutput: pulumi-command 1.2.1 hangs on a logged line of 64 KiB or more).
 */
const RUN_SCRIPT_FROM_STDIN = `sh -c ${quote(RUN_FROM_STDIN_BODY)}`;

/** Runs the script given as `$1` (argv), its output folded as above. */
const RUN_SCRIPT_FROM_ARGV = `sh -c ${quote(foldedOutput('sh -c "$1"'))} sh`;

/**
 * Wraps a step's script for the SSH user: directly, through sudo (`-S` reads the password from
 * stdin, `-p ''` keeps the prompt out of the output), or as the rootless user. By default the script
 * goes on stdin; `argv` puts it in the command line (undo scripts: small, and remote.Command gives
 * `delete` the same stdin as `create`). Components and the end-to-end runner both use this, so a
 * step runs the same way everywhere.
 */
export function invocationFor(
    step: Pick<PlanStep, "script" | "root" | "runAs" | "sources">,
    sshUser: string,
    sudo: SudoMode,
    via: "stdin" | "argv" = "stdin",
): Invocation {
    const fromStdin = step.sources === undefined ? RUN_SCRIPT_FROM_STDIN : `sh -c ${quote(`. ${step.sources} && ${RUN_FROM_STDIN_FUNCTION}`)}`;
    const body = via === "stdin" ? fromStdin : `${RUN_SCRIPT_FROM_ARGV} ${quote(step.script)}`;
    const stdin = via === "stdin" ? step.script : undefined;
    if (step.runAs !== undefined && step.runAs !== sshUser) {
        if (sudo === "root") return { command: `runuser -u ${quote(step.runAs)} -- ${body}`, stdin, passwordOnStdin: false };
        return sudoed(`-u ${quote(step.runAs)} ${body}`, sudo, stdin);
    }
    if (!step.root || step.runAs !== undefined || sudo === "root") return { command: body, stdin, passwordOnStdin: false };
    return sudoed(body, sudo, stdin);
}

/**
 * What to write to the command's stdin: the sudo password line first when sudo reads it, then the script.
 * A password with a line break or NUL is refused (`sudo -S` reads one line: the rest would run as the script).
 */
export function stdinFor(invocation: Invocation, sudoPassword: string | undefined): string | undefined {
    const password = invocation.passwordOnStdin && sudoPassword !== undefined ? `${validateSudoPassword(sudoPassword)}\n` : "";
    if (invocation.stdin === undefined) return password === "" ? undefined : password;
    return password + invocation.stdin;
}

function sudoed(rest: string, sudo: SudoMode, stdin: string | undefined): Invocation {
    if (sudo === "password") return { command: `sudo -S -p '' ${rest}`, stdin, passwordOnStdin: true };
    return { command: `sudo -n ${rest}`, stdin, passwordOnStdin: false };
}
