import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The fault matrix's ledger: every fault × node kind gets one outcome, printed as a table at the end of the
 * run (stdout and test/faults/results/faults-<date>.md). Loaded through .mocharc.faults.json's `require`,
 * so `mochaHooks.afterAll` runs once after every suite.
 */
export type Outcome = { status: "passed" | "failed" | "n/a" | "not run"; detail: string; seconds?: number };

const outcomes = new Map<string, Map<string, Outcome>>();
const faultOrder: string[] = [];
const kindOrder: string[] = [];
const started = Date.now();

export function record(fault: string, kind: string, outcome: Outcome): void {
    if (!faultOrder.includes(fault)) faultOrder.push(fault);
    if (!kindOrder.includes(kind)) kindOrder.push(kind);
    if (!outcomes.has(fault)) outcomes.set(fault, new Map());
    outcomes.get(fault)!.set(kind, outcome);
}

/** Declares the matrix's rows and columns up front, so a suite that never ran still shows as "not run". */
export function declare(faults: string[], kinds: string[]): void {
    for (const f of faults) if (!faultOrder.includes(f)) faultOrder.push(f);
    for (const k of kinds) if (!kindOrder.includes(k)) kindOrder.push(k);
}

function cell(o: Outcome | undefined): string {
    if (!o) return "not run";
    const time = o.seconds === undefined ? "" : ` (${Math.round(o.seconds)} s)`;
    const text = o.status === "passed" ? `passed${time}` : `${o.status}${time}: ${o.detail}`;
    return text.replace(/\|/g, "\\|").replace(/\s+/g, " ").slice(0, 400);
}

export function table(): string {
    const header = `| fault | ${kindOrder.join(" | ")} |`;
    const rule = `|---|${kindOrder.map(() => "---").join("|")}|`;
    const rows = faultOrder.map((f) => `| ${f} | ${kindOrder.map((k) => cell(outcomes.get(f)?.get(k))).join(" | ")} |`);
    return [header, rule, ...rows].join("\n");
}

export function writeReport(): string | undefined {
    if (faultOrder.length === 0) return undefined;
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    const date = new Date().toISOString().slice(0, 10);
    const counts = { passed: 0, failed: 0, "n/a": 0, "not run": 0 };
    for (const f of faultOrder) for (const k of kindOrder) counts[outcomes.get(f)?.get(k)?.status ?? "not run"]++;
    const text = [
        `# Fault matrix, ${date}`,
        "",
        "Real `pulumi up/preview/destroy` (test/pulumi/engine.ts) against e2e fleet nodes; after each fault: originals intact,",
        "re-apply converges, `preview --expect-no-changes` passes, `destroy` restores the originals byte for byte.",
        "",
        table(),
        "",
        `${counts.passed} passed, ${counts.failed} failed, ${counts["n/a"]} not applicable, ${counts["not run"]} not run; ${minutes} min in all.`,
        "",
    ].join("\n");
    const dir = path.join(__dirname, "results");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `faults-${date}.md`);
    fs.writeFileSync(file, text);
    process.stdout.write(`\n${text}\nwritten to ${path.relative(process.cwd(), file)}\n`);
    return file;
}

export const mochaHooks = {
    afterAll(): void {
        writeReport();
    },
};
