import * as fs from "node:fs";
import * as path from "node:path";
import { HostFacts, parseHostFacts } from "../../sdk/host/hostFacts";
import { HostSnapshot, WatchedFile } from "../../sdk/host/snapshot";

const PROBES = path.join(__dirname, "..", "fixtures", "probe");

/**
 * The host the fuzzed components plan for: a recorded probe (test/fixtures/probe) as a provisioned server has
 * it (systemd, Docker 27.5, containerd 1.7, CRI-O 1.32), the same as test/helpers/serverFacts.ts describes.
 * `datacentre` is the hand-made HGX H100 with Fabric Manager and MIG profiles, for the MIG layout fields.
 */
export function fuzzFacts(kind: "server" | "datacentre"): HostFacts {
    const fixture = kind === "server" ? "h100-ubuntu2404-root.json" : "handmade-hgx-h100-fm.json";
    const facts = parseHostFacts(fs.readFileSync(path.join(PROBES, fixture), "utf8"));
    return {
        ...facts,
        systemd: true,
        docker: facts.docker ?? {
            path: "/usr/bin/docker",
            clientVersion: "27.5.1",
            serverVersion: "27.5.1",
            snap: false,
            rootless: false,
            desktop: false,
            runtimes: ["runc"],
            cgroupDriver: "systemd",
        },
        containerd: facts.containerd ?? { version: "1.7.27", configVersion: 2 },
        crioVersion: facts.crioVersion ?? "1.32.0",
    };
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
