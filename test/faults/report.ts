import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";

/**
 * The fault matrix's ledger: every fault × node kind gets one outcome, printed as a table at the end of the
 * run (stdout and test/faults/results/faults-<date>.md). The columns run in parallel mocha workers (one spec
 * file per node kind, .mocharc.faults.json), so each kind's outcomes go to a file of its own under
 * .tmp/fault-ledger; mocha's global fixtures (this file is `require`d) clear the ledger before the run and
 * write the table from it once, in the main process, after every worker is done.
 */
export type Outcome = { status: "passed" | "failed" | "n/a" | "not run"; detail: string; seconds?: number };

/** One kind's column: its place in the table, its rows in order, and the outcome of each cell that ran. */
interface Column {
    kind: string;
    index: number;
    faults: string[];
    outcomes: Record<string, Outcome>;
}

const LEDGER = path.join(REPO_ROOT, ".tmp/fault-ledger");
const ledgerFile = (kind: string) => path.join(LEDGER, `${kind}.json`);

function readColumn(kind: string): Column | undefined {
    try {
        return JSON.parse(fs.readFileSync(ledgerFile(kind), "utf8")) as Column;
    } catch {
        return undefined;
    }
}

function writeColumn(column: Column): void {
    fs.mkdirSync(LEDGER, { recursive: true });
    const file = ledgerFile(column.kind);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(column, null, 1));
    fs.renameSync(`${file}.tmp`, file);
}

/** Declares a column and its rows up front (`index`: its place in the table), so a cell that never ran shows as "not run". */
export function declare(faults: string[], kind: string, index: number): void {
    const column = readColumn(kind) ?? { kind, index, faults: [], outcomes: {} };
    for (const f of faults) if (!column.faults.includes(f)) column.faults.push(f);
    writeColumn(column);
}

export function record(fault: string, kind: string, outcome: Outcome): void {
    const column = readColumn(kind) ?? { kind, index: 99, faults: [], outcomes: {} };
    if (!column.faults.includes(fault)) column.faults.push(fault);
    column.outcomes[fault] = outcome;
    writeColumn(column);
}

function cell(o: Outcome | undefined): string {
    if (!o) return "not run";
    const time = o.seconds === undefined ? "" : ` (${Math.round(o.seconds)} s)`;
    const text = o.status === "passed" ? `passed${time}` : `${o.status}${time}: ${o.detail}`;
    return text.replace(/\|/g, "\\|").replace(/\s+/g, " ").slice(0, 400);
}

function columns(): Column[] {
    if (!fs.existsSync(LEDGER)) return [];
    return fs
        .readdirSync(LEDGER)
        .filter((f) => f.endsWith(".json"))
        .map((f) => readColumn(f.slice(0, -5)))
        .filter((c): c is Column => c !== undefined)
        .sort((a, b) => a.index - b.index);
}

export function table(cols: Column[] = columns()): string {
    const faults: string[] = [];
    for (const c of cols) for (const f of c.faults) if (!faults.includes(f)) faults.push(f);
    const header = `| fault | ${cols.map((c) => c.kind).join(" | ")} |`;
    const rule = `|---|${cols.map(() => "---").join("|")}|`;
    const rows = faults.map((f) => `| ${f} | ${cols.map((c) => cell(c.outcomes[f])).join(" | ")} |`);
    return [header, rule, ...rows].join("\n");
}

let started = Date.now();

export function writeReport(): string | undefined {
    const cols = columns();
    if (cols.length === 0) return undefined;
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    const date = new Date().toISOString().slice(0, 10);
    const counts = { passed: 0, failed: 0, "n/a": 0, "not run": 0 };
    const faults = new Set(cols.flatMap((c) => c.faults));
    for (const f of faults) for (const c of cols) counts[c.outcomes[f]?.status ?? "not run"]++;
    const text = [
        `# Fault matrix, ${date}`,
        "",
        "Real `pulumi up/preview/destroy` (test/pulumi/engine.ts) against e2e fleet nodes; after each fault: originals intact,",
        "re-apply converges, `preview --expect-no-changes` passes, `destroy` restores the originals byte for byte.",
        "",
        table(cols),
        "",
        `${counts.passed} passed, ${counts.failed} failed, ${counts["n/a"]} not applicable, ${counts["not run"]} not run; ${minutes} min in all.`,
        "",
    ].join("\n");
    // FAULT_REPORT=stdout (a narrowed run while developing) prints the table but keeps the committed results file.
    if (process.env.FAULT_REPORT === "stdout") {
        process.stdout.write(`\n${text}`);
        return undefined;
    }
    const dir = path.join(__dirname, "results");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `faults-${date}.md`);
    fs.writeFileSync(file, text);
    process.stdout.write(`\n${text}\nwritten to ${path.relative(process.cwd(), file)}\n`);
    return file;
}

/** Mocha's global fixtures: they run once, in the main process, in serial and parallel mode alike. */
export async function mochaGlobalSetup(): Promise<void> {
    started = Date.now();
    fs.rmSync(LEDGER, { recursive: true, force: true });
    // Shared by every worker, so made once here before they start: the library's build, the fleet's SSH key and
    // the run's copy of the loopback repository.
    const { ensurePackage, snapshotRepo } = await import("./harness");
    const { sshKey } = await import("../e2e/fleet");
    ensurePackage();
    sshKey();
    snapshotRepo();
    process.env.FAULT_PACKAGE_READY = "1";
}

export function mochaGlobalTeardown(): void {
    writeReport();
}
