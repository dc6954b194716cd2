import { strict as assert } from "node:assert";
import { DiffCase, KNOWN_BUGS } from "./knownBugs";

/** The minimum number of differential cases one run must check, all targets together. */
export const MIN_CASES = 300;

/** Counts what the differential cases found, for the closing summary (printed by the root hook below). */
class Ledger {
    readonly cases = new Map<string, number>();
    readonly identical = new Map<string, number>();
    readonly explained = new Map<string, number>();
    readonly visible = new Map<string, number>();

    record(c: DiffCase, refs: string[]): void {
        this.cases.set(c.target, (this.cases.get(c.target) ?? 0) + 1);
        if (refs.length === 0) this.identical.set(c.target, (this.identical.get(c.target) ?? 0) + 1);
        for (const ref of new Set(refs)) this.explained.set(`${c.target} ${ref}`, (this.explained.get(`${c.target} ${ref}`) ?? 0) + 1);
    }

    /** A corrected known bug that changes containerd's merged config on this containerd version. */
    visibleIn(_c: DiffCase, containerd: string): void {
        this.visible.set(containerd, (this.visible.get(containerd) ?? 0) + 1);
    }

    total(): number {
        return [...this.cases.values()].reduce((a, b) => a + b, 0);
    }

    summary(): string {
        const lines = ["differential summary (nvidia-ctk v1.20.0 vs our renderers):"];
        for (const [target, n] of this.cases) lines.push(`  ${target}: ${n} cases, ${this.identical.get(target) ?? 0} identical`);
        for (const [ref, n] of [...this.explained].sort()) lines.push(`  explained: ${ref}: ${n}`);
        if (this.visible.size > 0) {
            lines.push(`  corrected bugs that change containerd's merged config: ${[...this.visible].map(([v, n]) => `${v}: ${n}`).join(", ")}`);
        }
        lines.push(`  total: ${this.total()} cases, 0 unexplained differences among the passing ones`);
        return lines.join("\n");
    }
}

export const ledger = new Ledger();

/** Mocha root hooks (`npm run test:diff` requires this file): the summary, and the case-count floor for a full run. */
export const mochaHooks = {
    afterAll(): void {
        process.stdout.write(`\n${ledger.summary()}\n`);
        if (process.env.DIFF_FULL !== "0" && !process.argv.some((a) => a === "--grep" || a === "-g" || a.startsWith("--grep="))) {
            assert.ok(ledger.total() >= MIN_CASES, `only ${ledger.total()} differential cases ran; at least ${MIN_CASES} expected`);
            // A row no case needs any more is stale: the table lists only differences that really occur.
            const unseen = KNOWN_BUGS.filter((b) => !b.dedicated && !b.fixedUpstream && !ledger.explained.has(`${b.target} ${b.ref}`));
            assert.deepEqual(
                unseen.map((b) => b.ref),
                [],
                "known bugs that no differential case showed",
            );
        }
    },
};
