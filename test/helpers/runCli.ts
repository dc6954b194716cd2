import { main } from "../../cli/main";

/** Runs the CLI in-process and captures stdout, stderr and the exit code. */
export async function runCli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const out = { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream;
    const err = { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream;
    const code = await main(argv, out, err);
    return { code, stdout, stderr };
}
