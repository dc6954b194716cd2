import { maskCredentials } from "../secrets/credentials";
import { unifiedDiff } from "./unifiedDiff";
import { Finding } from "../host/preflight";
import { InjectionModeData } from "../toolkit/injectionMode";

/** One step of a node's plan. */
export interface PlanStepData {
    /** The step's name, e.g. `toolkit-install`; also the name of its command. */
    name: string;
    /** What the step does, in words. */
    description: string;
    /** The step needs a reboot before its change takes effect. */
    rebootRequired: boolean;
}

/** One host file a node's plan writes: its text before and after (credentials masked). */
export interface PlanFileData {
    /** The file's absolute path on the host. */
    path: string;
    /** The live file's text; absent when the file does not exist yet. */
    previous: string | undefined;
    /** The text the plan writes. */
    text: string;
    /** The text differs from the live file. */
    changed: boolean;
    /** What changes, one line per change. */
    summary: string[];
}

/** One node's plan in data (the shape of GpuNode.plan). */
export interface NodePlanData {
    /** The steps, in the order they run. */
    steps: PlanStepData[];
    /** Packages the plan installs or pins, as its steps name them. */
    packages: string[];
    /** Host files written, with their old and new text. */
    files: PlanFileData[];
    /** Services restarted because their configuration changed. */
    restarts: string[];
    /** Preflight warnings and notes. */
    findings: Finding[];
    /** How the NVIDIA runtime injects GPUs once the plan has run (jit-cdi, cdi or legacy), and why. */
    injectionMode?: InjectionModeData;
}

/** What `gpu-node plan` found for a stack; its JSON form is the baseline of the next plan. */
export interface PlanReport {
    stack: string;
    /** `unknown`: no facts, planned at apply; `error`: a bad node config, an unreachable host, or a plan that failed. */
    nodes: Array<{ name: string; host: string; status: "planned" | "unknown" | "error"; reason?: string; plan?: NodePlanData }>;
    kubernetes: Array<{ type: string; name: string }>;
}

export type ReportFormat = "text" | "markdown" | "json";

/** Findings that mean the host is not as planned: they count as changes. */
const DRIFT_FINDINGS = ["toolkit-unexpected-version", "driver-library-mismatch"];

/** One file's difference from the reference (the baseline's file, else the host's live file). */
interface FileChange {
    path: string;
    diff: string;
    summary: string[];
}

/** Per node, what differs from the baseline (or, without one, from the hosts' recorded files). */
export function changesOf(unmasked: PlanReport, unmaskedBaseline?: PlanReport): Map<string, { files: FileChange[]; other: string[] }> {
    // Compared masked: a baseline is a masked JSON report, and a diff must not show a credential.
    const report = maskReport(unmasked);
    const baseline = unmaskedBaseline === undefined ? undefined : maskReport(unmaskedBaseline);
    const changes = new Map<string, { files: FileChange[]; other: string[] }>();
    for (const node of report.nodes) {
        const entry = { files: [] as FileChange[], other: [] as string[] };
        const before = baseline?.nodes.find((n) => n.name === node.name);
        if (node.status === "error") {
            entry.other.push(`cannot be planned: ${node.reason ?? "error"}`);
        } else if (node.status === "unknown") {
            // Unknown in the baseline too: nothing new is known, so nothing changed.
            if (before?.status !== "unknown") entry.other.push("host facts unknown: the plan is computed at apply");
        } else if (baseline !== undefined) {
            if (!before?.plan) entry.other.push("new node");
            const plan = node.plan!;
            for (const file of plan.files) {
                const old = before?.plan?.files.find((f) => f.path === file.path)?.text;
                if (old !== file.text)
                    entry.files.push({ path: file.path, diff: unifiedDiff(file.path, old ?? "", file.text, old === undefined), summary: file.summary });
            }
            const describe = (p?: NodePlanData) => JSON.stringify([p?.steps, p?.packages, p?.restarts]);
            if (before?.plan && describe(before.plan) !== describe(plan)) entry.other.push("steps, packages or restarts changed");
            const [was, now] = [before?.plan?.injectionMode?.mode, plan.injectionMode?.mode];
            if (was !== undefined && now !== undefined && was !== now) entry.other.push(`injection mode ${was} → ${now}`);
        } else {
            for (const file of node.plan!.files) {
                if (file.changed)
                    entry.files.push({
                        path: file.path,
                        diff: unifiedDiff(file.path, file.previous ?? "", file.text, file.previous === undefined),
                        summary: file.summary,
                    });
            }
        }
        for (const f of node.plan?.findings ?? []) {
            if (DRIFT_FINDINGS.includes(f.id)) entry.other.push(f.message);
        }
        if (entry.files.length > 0 || entry.other.length > 0) changes.set(node.name, entry);
    }
    for (const old of baseline?.nodes ?? []) {
        if (!report.nodes.some((n) => n.name === old.name)) changes.set(old.name, { files: [], other: ["node removed"] });
    }
    return changes;
}

/** The report as text or a Markdown PR comment (JSON is the report itself). */
export function formatReport(unmasked: PlanReport, format: ReportFormat, unmaskedBaseline?: PlanReport): string {
    const report = maskReport(unmasked);
    const baseline = unmaskedBaseline === undefined ? undefined : maskReport(unmaskedBaseline);
    if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
    const md = format === "markdown";
    const changes = changesOf(report, baseline);
    const out: string[] = [];
    const planned = report.nodes.filter((n) => n.status === "planned").length;
    out.push(md ? `### gpu-node plan: stack \`${report.stack}\`` : `Stack ${report.stack}`);
    const errors = report.nodes.filter((n) => n.status === "error").length;
    out.push(
        `${report.nodes.length} node(s): ${planned} planned, ${report.nodes.length - planned - errors} unknown${errors ? `, ${errors} in error` : ""}; ${changes.size} with changes${baseline ? " since the baseline" : ""}.`,
        "",
    );
    for (const node of report.nodes) {
        out.push(md ? `#### ${node.name} (\`${node.host}\`)` : `== ${node.name} (${node.host})`);
        if (node.status !== "planned" || !node.plan) {
            out.push(`${node.status === "error" ? "error" : "unknown"}: ${node.reason ?? "no facts"}`, "");
            continue;
        }
        const plan = node.plan;
        out.push(md ? "**Steps**" : "Steps:");
        plan.steps.forEach((s, i) =>
            out.push(`${md ? `${i + 1}.` : `  ${i + 1}.`} ${md ? `\`${s.name}\`` : s.name} — ${s.description}${s.rebootRequired ? " (needs a reboot)" : ""}`),
        );
        if (plan.packages.length) out.push(`${md ? "**Packages:**" : "Packages:"} ${plan.packages.join(", ")}`);
        out.push(`${md ? "**Restarts:**" : "Restarts:"} ${plan.restarts.length ? `${plan.restarts.join(", ")} (only if its configuration changes)` : "none"}`);
        if (plan.injectionMode) out.push(`${md ? "**Injection mode:**" : "Injection mode:"} ${injectionModeLine(plan.injectionMode, md)}`);
        for (const f of plan.findings) out.push(`${md ? "> " : ""}${f.severity}: ${f.message} — ${f.fix}`);
        const nodeChanges = changes.get(node.name);
        for (const other of nodeChanges?.other ?? []) out.push(`${md ? "- " : "  "}${other}`);
        for (const file of plan.files) {
            const change = nodeChanges?.files.find((c) => c.path === file.path);
            if (!change) {
                out.push(`${md ? "- " : "  "}${md ? `\`${file.path}\`` : file.path}: unchanged`);
                continue;
            }
            if (md)
                out.push(
                    `<details><summary><code>${file.path}</code>: ${change.summary.join("; ") || "changed"}</summary>`,
                    "",
                    "```diff",
                    change.diff.trimEnd(),
                    "```",
                    "</details>",
                );
            else
                out.push(
                    `  ${file.path}: ${change.summary.join("; ") || "changed"}`,
                    ...change.diff
                        .trimEnd()
                        .split("\n")
                        .map((l) => `    ${l}`),
                );
        }
        out.push("");
    }
    if (report.kubernetes.length) {
        out.push(md ? "#### Kubernetes objects" : "Kubernetes objects:");
        for (const k of report.kubernetes) out.push(`${md ? "- " : "  "}${k.type} ${k.name}`);
        out.push("");
    }
    return `${out.join("\n")}\n`;
}

/** `jit-cdi — the package's config.toml sets … "auto"; toolkit 1.20.0-1 resolves "auto" to jit-cdi …`: the mode, then why. */
function injectionModeLine(m: InjectionModeData, md: boolean): string {
    return `${md ? `\`${m.mode}\`` : m.mode} — ${m.reason}`;
}

/**
 * The report with every credential in it (file texts, summaries, messages) replaced by `********`,
 * keys kept: reports are printed, posted as PR comments and kept as baselines.
 */
export function maskReport<T>(report: T): T {
    const mask = (value: unknown): unknown => {
        if (typeof value === "string") return maskCredentials(value);
        if (Array.isArray(value)) return value.map(mask);
        if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v)]));
        return value;
    };
    return mask(report) as T;
}
