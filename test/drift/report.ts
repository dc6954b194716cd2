import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";

/**
 * The drift matrix's ledger, kept like the fault matrix's (test/faults/report.ts): one file per node kind under
 * .tmp/drift-ledger (the columns run in parallel workers), one table written by mocha's global teardown to stdout and
 * test/drift/results/drift-<date>.md.
 */
export type Outcome = { status: "passed" | "failed" | "n/a"; detail: string; seconds?: number };

interface Column {
    kind: string;
    index: number;
    rows: string[];
    outcomes: Record<string, Outcome>;
}

const LEDGER = path.join(REPO_ROOT, ".tmp/drift-ledger");
const file = (kind: string) => path.join(LEDGER, `${kind}.json`);

function read(kind: string): Column | undefined {
    try {
        return JSON.parse(fs.readFileSync(file(kind), "utf8")) as Column;
    } catch {
        return undefined;
    }
}

function write(column: Column): void {
    fs.mkdirSync(LEDGER, { recursive: true });
    fs.writeFileSync(`${file(column.kind)}.tmp`, JSON.stringify(column, null, 1));
    fs.renameSync(`${file(column.kind)}.tmp`, file(column.kind));
}

export function declare(rows: string[], kind: string, index: number): void {
    const column = read(kind) ?? { kind, index, rows: [], outcomes: {} };
    for (const r of rows) if (!column.rows.includes(r)) column.rows.push(r);
    write(column);
}

export function record(row: string, kind: string, outcome: Outcome): void {
    const column = read(kind) ?? { kind, index: 99, rows: [], outcomes: {} };
    if (!column.rows.includes(row)) column.rows.push(row);
    column.outcomes[row] = outcome;
    write(column);
}

function cell(o: Outcome | undefined): string {
    if (!o) return "not run";
    const time = o.seconds === undefined ? "" : ` (${Math.round(o.seconds)} s)`;
    return (o.status === "passed" ? `passed${time}` : `${o.status}${time}: ${o.detail}`).replace(/\|/g, "\\|").replace(/\s+/g, " ").slice(0, 300);
}

let started = Date.now();

export function mochaGlobalSetup(): Promise<void> {
    started = Date.now();
    fs.rmSync(LEDGER, { recursive: true, force: true });
    return (async () => {
        const { ensurePackage, snapshotRepo } = await import("../faults/harness");
        const { sshKey } = await import("../e2e/fleet");
        ensurePackage();
        sshKey();
        snapshotRepo();
        process.env.FAULT_PACKAGE_READY = "1";
    })();
}

export function mochaGlobalTeardown(): void {
    if (!fs.existsSync(LEDGER)) return;
    const cols = fs
        .readdirSync(LEDGER)
        .filter((f) => f.endsWith(".json"))
        .map((f) => read(f.slice(0, -5))!)
        .sort((a, b) => a.index - b.index);
    const rows: string[] = [];
    for (const c of cols) for (const r of c.rows) if (!rows.includes(r)) rows.push(r);
    const counts = { passed: 0, failed: 0, "n/a": 0, "not run": 0 };
    for (const r of rows) for (const c of cols) counts[c.outcomes[r]?.status ?? "not run"]++;
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    const date = new Date().toISOString().slice(0, 10);
    const text = [
        `# Drift matrix, ${date}`,
        "",
        "Real `pulumi preview/up/destroy` against fleet nodes, one node per kind reused across rows (test/drift). Each cell: the",
        "drift made by hand, `preview` names it, `up` repairs it, `preview --expect-no-changes` passes, and nothing else on the",
        "host changed (managed files, the package list and holds as after the first up). The last row: after `destroy` the",
        "managed trees (files, folders, modes, owners), the package list and the holds are as before the first `up`.",
        "",
        `| drift | ${cols.map((c) => c.kind).join(" | ")} |`,
        `|---|${cols.map(() => "---").join("|")}|`,
        ...rows.map((r) => `| ${r} | ${cols.map((c) => cell(c.outcomes[r])).join(" | ")} |`),
        "",
        `${counts.passed} passed, ${counts.failed} failed, ${counts["n/a"]} not applicable, ${counts["not run"]} not run; ${minutes} min in all.`,
        "",
    ].join("\n");
    if (process.env.DRIFT_REPORT === "stdout") {
        process.stdout.write(`\n${text}`);
        return;
    }
    const out = path.join(__dirname, "results", `drift-${date}.md`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, text);
    process.stdout.write(`\n${text}\nwritten to ${path.relative(process.cwd(), out)}\n`);
}
