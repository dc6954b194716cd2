import * as fs from "node:fs";
import { SshHostReader } from "../components/hostReader";
import { GpuConfigError } from "../sdk/errors";
import { PlanReport, ReportFormat, changesOf, formatReport } from "../sdk/report/planReport";
import { validateChoice } from "../sdk/validate";
import { booleanFlag, parseFlags, stringFlag } from "./flags";
import { planStack } from "./offlinePlan";

const FLAGS = { stack: "string", format: "string", out: "string", baseline: "string", live: "boolean", root: "string" } as const;

/**
 * `gpu-node plan [--stack NAME] [--format text|markdown|json] [--out FILE] [--baseline FILE] [--live]`.
 * Exit codes as `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
 */
export async function planCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
    const flags = parseFlags(args, FLAGS);
    const format = validateChoice(stringFlag(flags, "format") ?? "text", ["text", "markdown", "json"] as const, "--format") as ReportFormat;
    const stack = stringFlag(flags, "stack") ?? "example";
    const root = stringFlag(flags, "root") ?? process.cwd();
    const baselineFile = stringFlag(flags, "baseline");
    let baseline: PlanReport | undefined;
    if (baselineFile !== undefined) {
        if (!fs.existsSync(baselineFile)) throw new GpuConfigError("--baseline", `${baselineFile} does not exist`, "write one with --format json --out FILE");
        baseline = JSON.parse(fs.readFileSync(baselineFile, "utf8")) as PlanReport;
    }
    const report = await planStack(root, stack, booleanFlag(flags, "live") ? new SshHostReader() : undefined);
    const text = formatReport(report, format, baseline);
    const outFile = stringFlag(flags, "out");
    if (outFile !== undefined) fs.writeFileSync(outFile, text);
    else out.write(text);
    return changesOf(report, baseline).size > 0 ? 2 : 0;
}
