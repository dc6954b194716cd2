import * as path from "node:path";
import { MatrixLedger, Outcome } from "../helpers/matrixLedger";

/**
 * The drift matrix's ledger (test/helpers/matrixLedger.ts, shared with the fault matrix): one table at the end of the
 * run, on stdout and in test/drift/results/drift-<date>.md. This file is `require`d by .mocharc.drift.json for mocha's
 * global fixtures.
 */
export type { Outcome };

const ledger = new MatrixLedger({
    name: "drift-ledger",
    rowHeader: "drift",
    title: "Drift matrix",
    intro: [
        "Real `pulumi preview/up/destroy` against fleet nodes, one node per kind reused across rows (test/drift). Each cell: the",
        "drift made by hand, `preview` names it, `up` repairs it, `preview --expect-no-changes` passes, and nothing else on the",
        "host changed (managed files, the package list and holds as after the first up). The last row: after `destroy` the",
        "managed trees (files, folders, modes, owners), the package list and the holds are as before the first `up`.",
    ],
    resultsDir: path.join(__dirname, "results"),
    prefix: "drift",
    stdoutVariable: "DRIFT_REPORT",
    detailChars: 400,
});

export const declare = (rows: string[], kind: string, index: number): void => ledger.declare(rows, kind, index);
export const record = (row: string, kind: string, outcome: Outcome): void => ledger.record(row, kind, outcome);

export async function mochaGlobalSetup(): Promise<void> {
    ledger.start();
    const { prepareRun } = await import("../faults/harness");
    prepareRun("drift");
}

export function mochaGlobalTeardown(): void {
    ledger.writeReport();
}
