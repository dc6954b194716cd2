// The command line is built on commander 14.0.3, the last major that runs on Node.js 20 (15 needs
// Node 22): it is well kept and widely used, and gives subcommands, generated help that lists every
// flag with its default, and "did you mean" suggestions for unknown flags and commands, which the
// hand-written parser it replaced did not.
import { Command, CommanderError } from "commander";
import { checkImageCommand } from "./checkImageCommand";
import { CommandIo, ExitCode, UsageError, configureCommand } from "./cliCommon";
import { planCommand } from "./planCommand";
import { normaliseRenderArgs, renderCommand } from "./renderCommand";
import { scriptCommand } from "./scriptCommand";

const EXIT_CODES = `
Exit codes:
  0   done; for plan, no changes
  1   an error: a bad input file, an image that needs a newer driver, a value the library refuses
  2   plan only: the plan has changes (as terraform plan -detailed-exitcode)
  64  usage: an unknown command or flag, a missing or extra argument, a value outside a flag's choices

Each error is one line on stderr, naming the input at fault; stdout then stays empty, except
that plan's report keeps a row for each node it could not plan.
Run gpu-node <command> --help for a command's flags.
`;

/** The whole command line; `io.out` receives help and results, `io.code` the command's exit code. */
export function buildProgram(io: CommandIo): Command {
    const program = configureCommand(new Command("gpu-node"), io)
        .description("Plan and render NVIDIA GPU container hosts: the same plans and files the Pulumi components use.")
        .addHelpText("after", EXIT_CODES);
    for (const command of [planCommand(io), renderCommand(io), scriptCommand(io), checkImageCommand(io)]) program.addCommand(command);
    // Subcommands added with addCommand do not inherit the root's settings; copy them down the tree.
    const inherit = (parent: Command) => {
        for (const child of parent.commands) {
            configureCommand(child, io);
            inherit(child);
        }
    };
    inherit(program);
    return program;
}

/**
 * Runs one CLI command and returns its exit code (see EXIT_CODES). On success the result is on
 * stdout; on failure one line on stderr and nothing on stdout.
 */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
    // Results go to a buffer first, so a failure half-way prints nothing on stdout; help goes straight out.
    const chunks: string[] = [];
    const buffer = { write: (chunk: string) => (chunks.push(chunk), true) } as unknown as NodeJS.WritableStream;
    const io: CommandIo = { out: buffer, err, code: ExitCode.Ok };
    const program = buildProgram(io);
    const command = program.commands.find((c) => c.name() === argv[0]);
    const sub = command?.commands.find((c) => c.name() === argv[1]);
    const words = ["gpu-node", ...(command ? [command.name()] : []), ...(sub ? [sub.name()] : [])].join(" ");
    if (argv.length === 0) {
        err.write(program.helpInformation());
        return ExitCode.Usage;
    }
    try {
        await program.parseAsync(normaliseRenderArgs(argv), { from: "user" });
        out.write(chunks.join(""));
        return io.code;
    } catch (error) {
        if (error instanceof CommanderError) {
            if (error.exitCode === 0) {
                out.write(chunks.join("")); // help, for -h, --help and `help`
                return ExitCode.Ok;
            }
            err.write(`${words}: ${oneLine(error.message.replace(/^error: /, "")).replace(/\.$/, "")}; see ${words} --help\n`);
            return ExitCode.Usage;
        }
        if (error instanceof UsageError) {
            err.write(`${words}: ${oneLine(error.message)}; see ${words} --help\n`);
            return ExitCode.Usage;
        }
        err.write(`${words}: ${oneLine(messageOf(error))}\n`);
        return ExitCode.Error;
    }
}

function messageOf(error: unknown): string {
    if (error instanceof Error) return error.message;
    return typeof error === "string" ? error : "failed with an error that has no message";
}

/** One line: commander's suggestion joins its message; anything after a line break (a dump, a stack) is dropped. */
function oneLine(message: string): string {
    const [first, ...rest] = message.split("\n");
    const suggestion = rest.find((line) => /^\(Did you mean/.test(line.trim()));
    return suggestion ? `${first.trim().replace(/\.$/, "")} ${suggestion.trim().replace(/^\(Did/, "(did")}` : first.trim();
}
