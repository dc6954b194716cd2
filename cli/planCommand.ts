import * as fs from "node:fs";
import { Command, Option } from "commander";
import { GpuConfigError } from "../sdk/errors";
import { PlanReport, ReportFormat, changesOf, formatReport } from "../sdk/report/planReport";
import { CommandIo, ExitCode, switchOption } from "./cliCommon";
import type { SshHostReader } from "../components/hostReader";
import type { planStack } from "./offlinePlan";

interface PlanOptions {
    stack: string;
    format: ReportFormat;
    out?: string;
    baseline?: string;
    live: boolean;
    root?: string;
}

/**
 * `gpu-node plan`: the stack's plan, offline under Pulumi's mocks (or read live over SSH).
 * Exit codes as `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
 */
export function planCommand(io: CommandIo): Command {
    return new Command("plan")
        .description("plan a stack offline (Pulumi's mocks, host facts from the stack config): steps, packages, file diffs, restarts")
        .addOption(new Option("--stack <name>", "the stack: reads Pulumi.<name>.yaml").default("example"))
        .addOption(new Option("--format <format>", "the report's format").choices(["text", "markdown", "json"]).default("text"))
        .addOption(new Option("--out <file>", "write the report to a file (default: none, print to stdout)"))
        .addOption(new Option("--baseline <file>", "a JSON plan (--format json) to diff against; exit 2 only for changes since it (default: none)"))
        .addOption(switchOption("--live", "read the hosts over SSH (read-only) instead of the recorded facts, and report drift"))
        .addOption(new Option("--root <dir>", "the folder of Pulumi.yaml and the stack files (default: the current folder)"))
        .action(async (options: PlanOptions) => {
            const baseline = options.baseline === undefined ? undefined : readBaseline(options.baseline);
            // Loaded here, not at the top: @pulumi/pulumi and ssh2 take most of a cold start, and
            // `gpu-node --help` or `render` need neither.
            const { planStack: plan } = require("./offlinePlan") as { planStack: typeof planStack };
            const { SshHostReader: Reader } = require("../components/hostReader") as { SshHostReader: typeof SshHostReader };
            const report = await plan(options.root ?? process.cwd(), options.stack, options.live ? new Reader() : undefined);
            const text = formatReport(report, options.format, baseline);
            if (options.out === undefined) io.out.write(text);
            else writeReport(options.out, text);
            // A node that cannot be planned is an error (exit 1), reported on its own row after the others are planned,
            // and on stderr too: with --out or a JSON report the terminal would otherwise show nothing (issue 26).
            for (const n of report.nodes) {
                if (n.status === "error")
                    io.err.write(`gpu-node plan: node ${n.name}${n.host ? ` (${n.host})` : ""}: ${String(n.reason).replace(/\s*\n\s*/g, " ")}\n`);
            }
            io.code = report.nodes.some((n) => n.status === "error") ? ExitCode.Error : changesOf(report, baseline).size > 0 ? ExitCode.Changes : ExitCode.Ok;
        });
}

function readBaseline(file: string): PlanReport {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        throw new GpuConfigError(`--baseline ${file}`, `cannot be read (${(error as NodeJS.ErrnoException).code})`, "write one with --format json --out FILE");
    }
    let report: unknown;
    try {
        report = JSON.parse(text);
    } catch (error) {
        throw new GpuConfigError(
            `--baseline ${file}`,
            `is not JSON (${(error as Error).message.replace(/\s+/g, " ")})`,
            "write one with --format json --out FILE",
        );
    }
    if (report === null || typeof report !== "object" || !Array.isArray((report as PlanReport).nodes)) {
        throw new GpuConfigError(`--baseline ${file}`, "is not a JSON plan (no `nodes` list)", "write one with --format json --out FILE");
    }
    return report as PlanReport;
}

function writeReport(file: string, text: string): void {
    try {
        fs.writeFileSync(file, text);
    } catch (error) {
        throw new GpuConfigError(
            `--out ${file}`,
            `cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
            "give a path in a folder you can write to",
        );
    }
}
