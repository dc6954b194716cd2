import { createHash } from "node:crypto";
import fc from "fast-check";
import { GpuConfigError } from "../../sdk/errors";
import { COMPONENTS, argsFor, withValue } from "./cases";
import { Outcome, RegisteredObject, SentCommand, drive, installFuzzMocks } from "./drive";
import { hostileValue } from "./hostile";
import { CaseResult, SandboxCase, escapesIn, runInSandbox } from "./sandbox";
import { SchemaStringField, leafName, schemaStringFields } from "./schemaFields";

/** What one fuzz run found. */
export interface FuzzReport {
    seed: number;
    generated: number;
    refusedWithField: number;
    accepted: number;
    /** Accepted cases whose commands ran in the sandbox (every accepted case with a command). */
    acceptedAndRun: number;
    /** Accepted cases of the Kubernetes components: no script, checked as data. */
    acceptedAsData: number;
    /** Distinct command sequences executed (cases whose bytes equal an earlier case's share one execution). */
    sandboxRuns: number;
    commandsExecuted: number;
    commandsExitedZero: number;
    /** Commands that exited non-zero, by step (the sandbox's stand-ins cannot satisfy every check a real host does). */
    nonZeroExits: Map<string, number>;
    escapes: string[];
    /** Refusals that are not a GpuConfigError naming the field. */
    misnamed: string[];
    /** Accepted values that reached a Kubernetes object other than as one whole string. */
    mangled: string[];
    perField: Map<string, { refused: number; accepted: number }>;
    seconds: number;
}

type Api = typeof import("../../index");

/** Lets pending registrations and rejections of Pulumi's mocks surface. */
async function settle(ticks = 3): Promise<void> {
    for (let i = 0; i < ticks; i++) await new Promise((resolve) => setImmediate(resolve));
}

function stringsIn(value: unknown, out: string[] = []): string[] {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => stringsIn(v, out));
    else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            out.push(k);
            stringsIn(v, out);
        }
    }
    return out;
}

/** The case's commands in the order an `up` then a `destroy` sends them: read, creates in order, deletes in reverse. */
export function inRunOrder(sent: SentCommand[]): SentCommand[] {
    return [...sent.filter((s) => s.phase !== "delete"), ...sent.filter((s) => s.phase === "delete").reverse()];
}

/**
 * Drives `count` hostile values, round-robin over every string field of schema.json, through the public API; checks
 * each refusal names its field; runs every accepted case's commands in the sandbox and collects escapes.
 */
export async function fuzzPublicApi(count: number, seed: number, log: (line: string) => void = () => undefined): Promise<FuzzReport> {
    const started = Date.now();
    // Pulumi's runtime records a stack trace for every promise it makes (for its leak report); with source maps that is
    // most of the time of a case. No stack is needed here: errors are judged by their field.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    installFuzzMocks();
    const api = require("../../index") as Api;
    const fields = schemaStringFields();
    const report: FuzzReport = {
        seed,
        generated: 0,
        refusedWithField: 0,
        accepted: 0,
        acceptedAndRun: 0,
        acceptedAsData: 0,
        sandboxRuns: 0,
        commandsExecuted: 0,
        commandsExitedZero: 0,
        nonZeroExits: new Map(),
        escapes: [],
        misnamed: [],
        mangled: [],
        perField: new Map(fields.map((f) => [`${f.resource}.${f.path}`, { refused: 0, accepted: 0 }])),
        seconds: 0,
    };
    // Errors raised while a Kubernetes object's inputs serialise are rejections nothing awaits: they are that case's refusal.
    const rejections: unknown[] = [];
    const previous = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const collect = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", collect);
    const unique = new Map<string, { sandbox: SandboxCase; labels: string[]; caseIds: number[] }>();
    // Sequences run in the sandbox while later cases are driven: two sandboxes at a time, one per core.
    const batches: Array<Promise<CaseResult[]>> = [];
    let pending: SandboxCase[] = [];
    const slots: Array<Promise<unknown>> = [Promise.resolve(), Promise.resolve()];
    let turn = 0;
    const flush = () => {
        if (pending.length === 0) return;
        const batch = pending;
        pending = [];
        const slot = turn++ % slots.length;
        const done = slots[slot].then(() => runInSandbox(batch, 1));
        slots[slot] = done.catch(() => undefined);
        batches.push(done);
    };
    // The read-only snapshot command runs first, from the pristine state, and depends only on the watched paths:
    // the same bytes give the same run, so each distinct one runs once (most cases share the component's).
    const add = (commands: Array<{ command: string; stdin: string | undefined }>, labels: string[], n: number) => {
        const hash = createHash("sha256").update(JSON.stringify(commands)).digest("hex");
        const known = unique.get(hash);
        const entry = known ?? { sandbox: { id: hash, commands }, labels, caseIds: [] };
        entry.caseIds.push(n);
        if (known !== undefined) return hash;
        unique.set(hash, entry);
        pending.push(entry.sandbox);
        if (pending.length >= 50) flush();
        return hash;
    };
    const sequencesOf = new Map<number, string[]>();
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
    try {
        for (let n = 0; n < count; n++) {
            const field: SchemaStringField = fields[n % fields.length];
            const key = `${field.resource}.${field.path}`;
            const [value] = fc.sample(hostileValue(n), { numRuns: 1, seed: seed + n });
            const { args, facts } = argsFor(field.resource, field.path);
            const component = COMPONENTS[field.resource];
            rejections.length = 0;
            const outcome: Outcome = await drive(
                (name, reader) => component.construct(api, name, withValue(args, field.path, value), reader),
                `fz${n}`,
                facts,
                (r) => component.commands(api, r),
            );
            await settle();
            report.generated++;
            const refusal = outcome.kind === "refused" ? outcome.error : (rejections[0] as Error | undefined);
            const stats = report.perField.get(key)!;
            if (refusal !== undefined) {
                stats.refused++;
                const leaf = leafName(field.path);
                const named = refusal instanceof GpuConfigError && new RegExp(`(^|[.\\[ ])${leaf}(\\b|$)`).test(refusal.field);
                if (named) report.refusedWithField++;
                else report.misnamed.push(`${key} = ${JSON.stringify(value.slice(0, 120))}: ${String(refusal).slice(0, 300)}`);
                continue;
            }
            if (outcome.kind !== "accepted") continue;
            stats.accepted++;
            report.accepted++;
            const ordered = inRunOrder(outcome.sent);
            if (ordered.length === 0) {
                report.acceptedAsData++;
                checkObjects(outcome.objects, value, n, key, report);
                continue;
            }
            const read = ordered.filter((s) => s.phase === "read");
            const rest = ordered.filter((s) => s.phase !== "read");
            const hashes = [read, rest]
                .filter((part) => part.length > 0)
                .map((part) =>
                    add(
                        part.map((s) => ({ command: s.command, stdin: s.stdin })),
                        part.map((s) => `${s.phase} ${s.label}`),
                        n,
                    ),
                );
            sequencesOf.set(n, hashes);
            if (n % 1000 === 999) log(`  ${elapsed()}: ${n + 1} cases driven, ${unique.size} distinct command sequences so far`);
        }
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
        process.removeListener("unhandledRejection", collect);
        previous.forEach((l) => process.on("unhandledRejection", l));
    }
    log(`  ${elapsed()}: all cases driven; the sandbox finishes the last of ${unique.size} distinct command sequences`);
    flush();
    const results: CaseResult[] = (await Promise.all(batches)).flat();
    const byHash = new Map([...unique.values()].map((e) => [e.sandbox.id, e]));
    const ran = new Set<string>();
    results.forEach((result) => {
        const entry = byHash.get(result.id)!;
        report.sandboxRuns++;
        report.commandsExecuted += result.exitCodes.length;
        report.commandsExitedZero += result.exitCodes.filter((c) => c === 0).length;
        result.exitCodes.forEach((c, i) => {
            if (c !== 0) {
                const label = entry.labels[i];
                report.nonZeroExits.set(label, (report.nonZeroExits.get(label) ?? 0) + 1);
            }
        });
        if (result.exitCodes.length === entry.sandbox.commands.length && result.exitCodes.every((c) => c >= 0)) ran.add(result.id);
        const where = [...new Set(entry.caseIds.map((n) => `${fields[n % fields.length].resource}.${fields[n % fields.length].path}`))].join(", ");
        for (const e of escapesIn(result)) report.escapes.push(`${where} (cases ${entry.caseIds.slice(0, 5).join(",")}): ${e}`);
    });
    report.acceptedAndRun = [...sequencesOf.values()].filter((hashes) => hashes.every((h) => ran.has(h))).length;
    report.seconds = (Date.now() - started) / 1000;
    return report;
}

/** A value accepted into a Kubernetes object must be there as one whole string (a field's value, a key or a resource name). */
function checkObjects(objects: RegisteredObject[], value: string, n: number, key: string, report: FuzzReport): void {
    const marker = new RegExp(`fuzz(?:pwn|-canary-)\\D{0,10}${n}(?!\\d)`);
    for (const o of objects) {
        for (const s of [o.name, ...stringsIn(o.inputs)]) {
            if (marker.test(s) && !s.includes(value) && !s.includes(JSON.stringify(value).slice(1, -1))) {
                report.mangled.push(
                    `${key}: ${o.type} ${o.name} holds ${JSON.stringify(s.slice(0, 200))}, not the whole value ${JSON.stringify(value.slice(0, 120))}`,
                );
            }
        }
    }
}
