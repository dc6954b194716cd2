import { strict as assert } from "node:assert";
import { COMPONENTS, argsFor, withValue } from "./cases";
import { FuzzReport, fuzzPublicApi } from "./run";
import { schemaStringFields } from "./schemaFields";

/**
 * The public API under hostile strings (issue 14): every string field of every component in schema.json gets
 * values carrying shell, here-document, TOML/JSON/YAML and option payloads. Each is either refused by a
 * GpuConfigError naming the field, or accepted, and then every command the component would send over SSH (the
 * read-only snapshot, each step's create with its stdin, each delete) runs in a sandbox that detects escapes
 * (sandbox/enter.sh). FUZZ_CASES (default 10,000) and FUZZ_SEED (default: random, printed) reproduce a run.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 10000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`public API fuzz: ${CASES} hostile values into every string field (seed ${SEED})`, function () {
    this.timeout(900000);
    let report: FuzzReport;

    before(async () => {
        report = await fuzzPublicApi(CASES, SEED, (line) => console.log(line));
        console.log(
            [
                `  seed ${report.seed}: generated ${report.generated}, refused-with-field ${report.refusedWithField},`,
                `accepted ${report.accepted} (run in the sandbox ${report.acceptedAndRun}, Kubernetes data ${report.acceptedAsData}),`,
                `escapes=${report.escapes.length}; ${report.sandboxRuns} distinct command sequences, ${report.commandsExecuted} commands executed`,
                `(${report.commandsExitedZero} exited 0), ${report.seconds.toFixed(1)} s`,
            ].join(" "),
        );
        const failing = [...report.nonZeroExits].map(([step, count]) => `${step} ×${count}`).join(", ");
        if (failing !== "") console.log(`  non-zero exits by step (a stand-in is not a real host): ${failing}`);
    });

    it("covers every string field of schema.json, each reaching the component through its args", () => {
        const fields = schemaStringFields();
        assert.ok(fields.length > 100, `only ${fields.length} string fields found in schema.json`);
        const missing = fields.filter((f) => COMPONENTS[f.resource] === undefined).map((f) => `${f.resource}.${f.path}`);
        assert.deepEqual(missing, [], "components of schema.json without a fuzz case: add them to test/fuzz/cases.ts");
        for (const f of fields) {
            const { args } = argsFor(f.resource, f.path);
            assert.ok(JSON.stringify(withValue(args, f.path, "fuzz-probe-value")).includes("fuzz-probe-value"), `${f.resource}.${f.path} is not set`);
        }
        const untouched = [...report.perField].filter(([, s]) => s.refused + s.accepted === 0).map(([k]) => k);
        assert.deepEqual(untouched, [], "fields no case reached");
    });

    it(`generates at least ${CASES} cases and runs every accepted one that sends commands`, () => {
        assert.ok(report.generated >= CASES, `${report.generated} cases`);
        assert.equal(report.refusedWithField + report.misnamed.length + report.accepted, report.generated);
        assert.equal(report.acceptedAndRun + report.acceptedAsData, report.accepted, "an accepted case whose commands did not all run");
        assert.ok(report.accepted > 0 && report.refusedWithField > 0, "the generator reaches both outcomes");
    });

    /** `count × field` for each field the findings start with. */
    const byField = (findings: string[]) => {
        const counts = new Map<string, number>();
        for (const f of findings) counts.set(f.split(/ = | \(cases /)[0], (counts.get(f.split(/ = | \(cases /)[0]) ?? 0) + 1);
        return [...counts].map(([field, count]) => `${count} × ${field}`).join("; ");
    };

    it("refuses hostile values with a GpuConfigError that names the field", () => {
        assert.deepEqual(report.misnamed.slice(0, 10), [], `${report.misnamed.length} refusals do not name their field: ${byField(report.misnamed)}`);
    });

    it("lets no hostile value escape: no canary file, no payload run, no value split into words (escapes=0)", () => {
        assert.deepEqual(report.escapes.slice(0, 10), [], `${report.escapes.length} escapes: ${byField(report.escapes)}`);
    });

    it("keeps every value accepted into a Kubernetes object one whole string", () => {
        assert.deepEqual(report.mangled.slice(0, 20), []);
    });
});
