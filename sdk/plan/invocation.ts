import { quote } from "../shell/shellScript";
import { PlanStep } from "./planStep";

/** How the SSH user may become root. */
export type SudoMode = "root" | "passwordless" | "password";

/** The exact command line sent over SSH for a script, and whether the sudo password goes to stdin. */
export interface Invocation {
    command: string;
    /** True when the sudo password must be written to the command's stdin (never into argv or the script). */
    passwordOnStdin: boolean;
}

/**
 * Wraps a step's script for the SSH user: directly, through sudo (`-S` reads the password from
 * stdin, `-p ''` keeps the prompt out of the output), or as the rootless user. Components and the
 * end-to-end runner both use this, so a step runs the same way everywhere.
 */
export function invocationFor(step: Pick<PlanStep, "script" | "root" | "runAs">, sshUser: string, sudo: SudoMode): Invocation {
    const body = `sh -c ${quote(step.script)}`;
    if (step.runAs !== undefined && step.runAs !== sshUser) {
        if (sudo === "root") return { command: `runuser -u ${quote(step.runAs)} -- ${body}`, passwordOnStdin: false };
        return sudoed(`-u ${quote(step.runAs)} ${body}`, sudo);
    }
    if (!step.root || step.runAs !== undefined || sudo === "root") return { command: body, passwordOnStdin: false };
    return sudoed(body, sudo);
}

function sudoed(rest: string, sudo: SudoMode): Invocation {
    if (sudo === "password") return { command: `sudo -S -p '' ${rest}`, passwordOnStdin: true };
    return { command: `sudo -n ${rest}`, passwordOnStdin: false };
}
