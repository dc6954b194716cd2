import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "./paths";

/**
 * A matrix suite's ledger (the fault matrix, test/faults; the drift matrix, test/drift): every row × node kind gets one
 * outcome, printed as a table at the end of the run (stdout and <results>/<prefix>-<date>.md). The columns run in
 * parallel mocha workers (one spec file per node kind), so each kind's outcomes go to a file of its own under
 * .tmp/<name>; mocha's global fixtures (the suite's report.ts, `require`d) clear the ledger before the run and write
 * the table from it once, in the main process, after every worker is done.
 */
export type Outcome = { status: "passed" | "failed" | "n/a" | "not run"; detail: string; seconds?: number };

/** One kind's column: its place in the table, its rows in order, and the outcome of each cell that ran. */
interface Column {
    kind: string;
    index: number;
    rows: string[];
    outcomes: Record<string, Outcome>;
}

export interface LedgerOptions {
    /** The ledger's folder under .tmp, e.g. `fault-ledger`. */
    name: string;
    /** The first column's header: `fault`, `drift`. */
    rowHeader: string;
    /** The report's title, before the date: `Fault matrix`. */
    title: string;
    /** The paragraph under the title, one string per line. */
    intro: string[];
    /** Where the results file goes, and its name before the date: `faults` → faults-<date>.md. */
    resultsDir: string;
    prefix: string;
    /** The variable that, set to `stdout`, prints the table but keeps the committed results file (a narrowed run). */
    stdoutVariable: string;
    /** How much of a cell's detail the table keeps. */
    detailChars: number;
}

export class MatrixLedger {
    private readonly dir: string;
    private started = Date.now();

    constructor(private readonly options: LedgerOptions) {
        this.dir = path.join(REPO_ROOT, ".tmp", options.name);
    }

    private file(kind: string): string {
        return path.join(this.dir, `${kind}.json`);
    }

    private read(kind: string): Column | undefined {
        try {
            return JSON.parse(fs.readFileSync(this.file(kind), "utf8")) as Column;
        } catch {
            return undefined;
        }
    }

    private write(column: Column): void {
        fs.mkdirSync(this.dir, { recursive: true });
        const file = this.file(column.kind);
        fs.writeFileSync(`${file}.tmp`, JSON.stringify(column, null, 1));
        fs.renameSync(`${file}.tmp`, file);
    }

    /** Declares a column and its rows up front (`index`: its place in the table), so a cell that never ran shows as "not run". */
    declare(rows: string[], kind: string, index: number): void {
        const column = this.read(kind) ?? { kind, index, rows: [], outcomes: {} };
        for (const r of rows) if (!column.rows.includes(r)) column.rows.push(r);
        this.write(column);
    }

    record(row: string, kind: string, outcome: Outcome): void {
        const column = this.read(kind) ?? { kind, index: 99, rows: [], outcomes: {} };
        if (!column.rows.includes(row)) column.rows.push(row);
        column.outcomes[row] = outcome;
        this.write(column);
    }

    /** Run start (mocha's global setup): an empty ledger. */
    start(): void {
        this.started = Date.now();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private columns(): Column[] {
        if (!fs.existsSync(this.dir)) return [];
        return fs
            .readdirSync(this.dir)
            .filter((f) => f.endsWith(".json"))
            .map((f) => this.read(f.slice(0, -5)))
            .filter((c): c is Column => c !== undefined)
            .sort((a, b) => a.index - b.index);
    }

    private cell(o: Outcome | undefined): string {
        if (!o) return "not run";
        const time = o.seconds === undefined ? "" : ` (${Math.round(o.seconds)} s)`;
        const text = o.status === "passed" ? `passed${time}` : `${o.status}${time}: ${o.detail}`;
        return text.replace(/\|/g, "\\|").replace(/\s+/g, " ").slice(0, this.options.detailChars);
    }

    /** The table and its counts, written to the results file (or only printed: `<stdoutVariable>=stdout`). */
    writeReport(): string | undefined {
        const cols = this.columns();
        if (cols.length === 0) return undefined;
        const rows: string[] = [];
        for (const c of cols) for (const r of c.rows) if (!rows.includes(r)) rows.push(r);
        const counts = { passed: 0, failed: 0, "n/a": 0, "not run": 0 };
        for (const r of rows) for (const c of cols) if (c.rows.includes(r)) counts[c.outcomes[r]?.status ?? "not run"]++;
        const minutes = ((Date.now() - this.started) / 60000).toFixed(1);
        const date = new Date().toISOString().slice(0, 10);
        const text = [
            `# ${this.options.title}, ${date}`,
            "",
            ...this.options.intro,
            "",
            `| ${this.options.rowHeader} | ${cols.map((c) => c.kind).join(" | ")} |`,
            `|---|${cols.map(() => "---").join("|")}|`,
            // "—": a row that column does not take (the drift matrix runs each row on the columns it says).
            ...rows.map((r) => `| ${r} | ${cols.map((c) => (c.rows.includes(r) ? this.cell(c.outcomes[r]) : "—")).join(" | ")} |`),
            "",
            `${counts.passed} passed, ${counts.failed} failed, ${counts["n/a"]} not applicable, ${counts["not run"]} not run; ${minutes} min in all.`,
            "",
        ].join("\n");
        if (process.env[this.options.stdoutVariable] === "stdout") {
            process.stdout.write(`\n${text}`);
            return undefined;
        }
        fs.mkdirSync(this.options.resultsDir, { recursive: true });
        const file = path.join(this.options.resultsDir, `${this.options.prefix}-${date}.md`);
        fs.writeFileSync(file, text);
        process.stdout.write(`\n${text}\nwritten to ${path.relative(process.cwd(), file)}\n`);
        return file;
    }
}
