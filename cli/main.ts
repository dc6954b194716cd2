import { GpuConfigError } from "../sdk/errors";
import { renderCommand } from "./renderCommand";
import { scriptCommand } from "./scriptCommand";
import { checkImageCommand } from "./checkImageCommand";
import { planCommand } from "./planCommand";

type Command = (args: string[], out: NodeJS.WritableStream) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
    render: renderCommand,
    script: scriptCommand,
    "check-image": checkImageCommand,
    plan: planCommand,
};

const USAGE = `usage: gpu-node <command> [flags]
  plan [--stack NAME] [--format text|markdown|json] [--out FILE] [--baseline FILE] [--live]
  render docker|containerd|crio|toolkit-config   render a runtime config (flags as nvidia-ctk's)
  script toolkit --pm apt|dnf|zypper --version V [--experimental] [--repo-url U]
  check-image IMAGE [--driver VERSION] [--mode exact|minor-version] [--forward-compat] [--require-cuda LABEL]
  script driver --distro ID:VERSION (--branch B | --version V) [--open | --proprietary] [--source distro|cuda-repo]
`;

/**
 * Runs one CLI command. Success: exit 0 with the result on stdout. Failure: non-zero with a
 * one-line reason on stderr and nothing on stdout.
 */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
    const [name, ...args] = argv;
    const command = COMMANDS[name ?? ""];
    if (!command) {
        err.write(name === undefined || name === "--help" ? USAGE : `gpu-node: unknown command ${JSON.stringify(name)}; ${USAGE}`);
        return name === "--help" ? 0 : 64;
    }
    // Commands write into a buffer, so a failure half-way prints nothing on stdout.
    const chunks: string[] = [];
    const buffer = { write: (chunk: string) => chunks.push(chunk) } as unknown as NodeJS.WritableStream;
    try {
        const code = await command(args, buffer);
        out.write(chunks.join(""));
        return code;
    } catch (error) {
        const message = error instanceof GpuConfigError || error instanceof Error ? error.message : String(error);
        err.write(`gpu-node ${name}: ${message.split("\n")[0]}\n`);
        return 1; // 2 means "changes" for plan, as in terraform plan -detailed-exitcode
    }
}
