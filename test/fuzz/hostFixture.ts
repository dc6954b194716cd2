import { HostFacts } from "../../sdk/host/hostFacts";
import { serverFacts } from "../helpers/serverFacts";
import { HostSnapshot, WatchedFile } from "../../sdk/host/snapshot";

/**
 * The host the fuzzed components plan for: a recorded probe (test/fixtures/probe) as a provisioned server has
 * it (systemd, Docker 27.5, containerd 1.7, CRI-O 1.32), the same as test/helpers/serverFacts.ts describes.
 * `datacentre` is the hand-made HGX H100 with Fabric Manager and MIG profiles, for the MIG layout fields.
 */
export function fuzzFacts(kind: "server" | "datacentre"): HostFacts {
    return serverFacts(kind === "server" ? "h100-ubuntu2404-root.json" : "handmade-hgx-h100-fm.json");
}

/**
 * The snapshot a host reader returns for `files`: every watched file absent, as on a fresh host. The sandbox
 * starts from the same state (no such file), so each step's checksum guard passes and its script runs to the end.
 */
export function freshSnapshot(facts: HostFacts, files: WatchedFile[]): HostSnapshot {
    return {
        facts,
        files: Object.fromEntries(files.filter((f) => !f.binary).map((f) => [f.path, undefined])),
        priorWrites: {},
        containerdDump: undefined,
        generations: {},
        editedByNvidiaCtk: [],
        binaryFiles: Object.fromEntries(files.filter((f) => f.binary).map((f) => [f.path, { sum: "absent" }])),
    };
}
