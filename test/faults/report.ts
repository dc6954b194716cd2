import * as path from "node:path";
import { MatrixLedger, Outcome } from "../helpers/matrixLedger";

/**
 * The fault matrix's ledger (test/helpers/matrixLedger.ts): every fault × node kind gets one outcome, printed as a
 * table at the end of the run (stdout and test/faults/results/faults-<date>.md). This file is `require`d by
 * .mocharc.faults.json for mocha's global fixtures.
 */
export type { Outcome };

const ledger = new MatrixLedger({
    name: "fault-ledger",
    rowHeader: "fault",
    title: "Fault matrix",
    intro: [
        "Real `pulumi up/preview/destroy` (test/pulumi/engine.ts) against e2e fleet nodes; after each fault: originals intact,",
        "re-apply converges, `preview --expect-no-changes` passes, `destroy` restores the originals byte for byte.",
    ],
    resultsDir: path.join(__dirname, "results"),
    prefix: "faults",
    stdoutVariable: "FAULT_REPORT",
    detailChars: 400,
});

export const declare = (faults: string[], kind: string, index: number): void => ledger.declare(faults, kind, index);
export const record = (fault: string, kind: string, outcome: Outcome): void => ledger.record(fault, kind, outcome);

/** Mocha's global fixtures: they run once, in the main process, in serial and parallel mode alike. */
export async function mochaGlobalSetup(): Promise<void> {
    ledger.start();
    const { prepareRun } = await import("./harness");
    prepareRun("fault");
}

export function mochaGlobalTeardown(): void {
    ledger.writeReport();
}
