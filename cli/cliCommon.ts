import { Command, InvalidArgumentError, Option } from "commander";
import { GpuConfigError } from "../sdk/errors";

/**
 * Exit codes, documented in `gpu-node --help`: `plan`'s are those of `terraform plan -detailed-exitcode`,
 * and 64 is sysexits' EX_USAGE, so a script can tell a typo in its own command line from a failed check.
 */
export const ExitCode = {
    /** Done; for `plan`, no changes. */
    Ok: 0,
    /** An error: a bad input file, an incompatible image, a value the sdk refuses. */
    Error: 1,
    /** `plan` only: the plan has changes. */
    Changes: 2,
    /** The command line itself is wrong: an unknown command or flag, a missing or extra argument, a value outside a flag's choices. */
    Usage: 64,
} as const;

/** A command line that cannot be run as given; exits 64. */
export class UsageError extends Error {
    constructor(
        readonly field: string,
        problem: string,
        fix: string,
    ) {
        super(`${field}: ${problem} — ${fix}`);
        this.name = "UsageError";
    }
}

/** What a command writes to: stdout is buffered by `main`, so a failure half-way prints nothing there. */
export interface CommandIo {
    out: NodeJS.WritableStream;
    err: NodeJS.WritableStream;
    /** The exit code the command chose (0 unless it sets one). */
    code: number;
}

/** Help lines are wrapped at a fixed width, so `--help` and the README read the same on every terminal. */
export const HELP_WIDTH = 100;

/** A fresh command with the settings every gpu-node command shares (inherited by its subcommands). */
export function configureCommand(command: Command, io: { out: NodeJS.WritableStream }): Command {
    return command
        .exitOverride()
        .configureHelp({ helpWidth: HELP_WIDTH, showGlobalOptions: false })
        .configureOutput({
            writeOut: (text) => io.out.write(text),
            // Errors are written by main, one line each; commander's own two-line form is dropped.
            writeErr: () => undefined,
            outputError: () => undefined,
        })
        .showSuggestionAfterError(true)
        .allowExcessArguments(false);
}

/** A flag value checked by one of the sdk's validators: a failure is a usage error (64) naming the flag. */
export function checked<T>(check: (value: string) => T): (value: string) => T {
    return (value) => {
        try {
            return check(value);
        } catch (error) {
            const message = error instanceof GpuConfigError ? error.message.slice(error.field.length + 2) : String((error as Error).message ?? error);
            throw new InvalidArgumentError(message);
        }
    };
}

/** A boolean switch whose help shows its default (false), as every other flag's does. */
export function switchOption(flags: string, description: string): Option {
    return new Option(flags, description).default(false);
}

/** A flag that may repeat: every value, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
    return [...(previous ?? []), value];
}
