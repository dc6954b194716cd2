import { HostSnapshot } from "../host/snapshot";
import { RenderResult } from "./renderResult";
import { sh } from "../shell/shellScript";
import { maskCredentials } from "../secrets/credentials";
import { ABSENT, fileStep, sha256 } from "./fileStep";
import { PlanStep } from "./planStep";

/*
 * THE INVARIANT THE ENGINE RELIES ON
 *
 * Pulumi runs a remote.Command only when its inputs differ from the last applied ones. So:
 *   - on a converged host, every step's inputs are byte-identical to the last applied ones
 *     (nothing runs: `pulumi preview --expect-no-changes` passes);
 *   - on a drifted host, the steps that repair it differ (they run).
 *
 * A file step's inputs are its script: the rendered text, the checksum guard and the write generation.
 *   - Converged: the text is the live text; the guard is recomputed from the `.prev` copy the last
 *     write left (the file as it was before that write), and the generation is the one that write
 *     recorded in `<backup>.gen`. Same three values, same script.
 *   - Drifted (the file differs from what we rendered, and we wrote it before): the text alone may
 *     equal the last applied one (a hand revert to the original bytes gives the same text and the
 *     same guard), so the plan asks for the next generation. The script differs, the engine runs it,
 *     and the run records that generation, so the next preview is converged again.
 * Steps that must follow a repair (restart, verify) carry the files' generations in their inputs too.
 */

/** The generation a file's step records on the host: the recorded one, or the next when the plan sees drift. */
export function writeGeneration(result: RenderResult, snapshot: HostSnapshot): number {
    const recorded = snapshot.generations?.[result.path] ?? 0;
    const wroteBefore = result.path in snapshot.priorWrites || (snapshot.editedByNvidiaCtk ?? []).includes(result.path);
    return result.changed && wroteBefore ? recorded + 1 : recorded;
}

/** The generations of a group of files, for the inputs of the steps that follow their writes. */
export function revisionOf(results: RenderResult[], snapshot: HostSnapshot): string {
    return results.map((r) => `${r.path}@${writeGeneration(r, snapshot)}`).join(" ");
}

/**
 * The guard and generation of a binary file whose new bytes are known only on the host (a signing key
 * downloaded there): the same rule, read from checksums. Converged means the file is what our last write
 * put there; then the guard is the one that write used (the checksum of its `.prev`).
 */
export function binaryGuard(path: string, snapshot: HostSnapshot | undefined): { guard: string | undefined; generation: number | undefined } {
    const state = snapshot?.binaryFiles?.[path];
    if (snapshot === undefined || state === undefined) return { guard: undefined, generation: undefined };
    const recorded = snapshot.generations?.[path] ?? 0;
    if (state.written !== undefined && state.sum === state.written) return { guard: state.prior ?? ABSENT, generation: recorded };
    return { guard: state.sum, generation: state.written !== undefined ? recorded + 1 : recorded };
}

/** A file step whose write is refused if the host's file changed since it was read, and that records its generation. */
export function guardedFileStep(
    name: string,
    description: string,
    result: RenderResult,
    snapshot: HostSnapshot,
    service?: string,
    owner?: string,
    dropIn = false,
): PlanStep {
    return fileStep(name, description, result, {
        // A drop-in this library owns that copies registry passwords or proxy credentials is never more
        // readable than root's (issue 14); the owner's own files keep the mode they have.
        forceMode: dropIn && maskCredentials(result.text) !== result.text ? "0600" : undefined,
        guard: checksumGuard(result, snapshot),
        generation: writeGeneration(result, snapshot),
        owner,
        validate: result.path.endsWith(".json") ? JSON_CHECK : undefined,
        // After a byte-exact restore the daemon must read the original again.
        afterUndo: service === undefined ? undefined : sh`systemctl restart ${service} || true`,
    });
}

/**
 * The checksum the host's file must still have when the write runs. For a file already as rendered,
 * it is the one the earlier write was guarded with (read back from its .prev backup), so the step's
 * inputs stay the same and Pulumi sees nothing to do.
 */
export function checksumGuard(result: RenderResult, snapshot: HostSnapshot): string | undefined {
    const sum = (text: string | undefined) => (text === undefined ? ABSENT : sha256(text));
    if (!(result.path in snapshot.files)) return undefined;
    if (!result.changed && result.path in snapshot.priorWrites) return sum(snapshot.priorWrites[result.path]);
    return sum(snapshot.files[result.path]);
}

/**
 * A second opinion on JSON where python3 has its json module (python3-minimal has not: found by the e2e
 * fleet); dockerd validates again before its restart.
 */
const JSON_CHECK = sh`if python3 -c 'import json' >/dev/null 2>&1; then python3 -m json.tool "$tmp" >/dev/null; fi`;
