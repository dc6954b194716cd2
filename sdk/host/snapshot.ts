import { GpuConfigError } from "../errors";
import { lines, script, sh } from "../shell/shellScript";
import { backupPath } from "../steps/backupPath";
import { HostFacts, parseHostFacts } from "./hostFacts";
import { ObjectState, objectsReadFragment, parseObjects } from "./managedObjects";
import { PROBE_SCRIPT } from "./probeScript";
import { userObjectsReadFragment } from "./userObjects";

/** Current text of host files by path; `undefined` for a file that does not exist. */
export type LiveFiles = Record<string, string | undefined>;

/** A host file a plan may edit; a user's own file keeps its backups beside it. */
export interface WatchedFile {
    path: string;
    userOwned?: boolean;
    /** A binary file (a keyring): only its checksums are read, never its bytes. */
    binary?: boolean;
    /** The user a user-owned file belongs to: the read also observes that user's own managed objects (sdk/host/userObjects.ts). */
    owner?: string;
}

/** What the snapshot knows of a binary file: checksums only (`absent` where there is no file). */
export interface BinaryFileState {
    /** sha256 of the file now. */
    sum: string;
    /** sha256 of the `.prev` copy the last write left (what the file was before it), if any. */
    prior?: string;
    /** sha256 of what the last write put there. */
    written?: string;
}

/** What one read-only SSH session learns about a host: its facts and the files a plan edits. */
export interface HostSnapshot {
    facts: HostFacts;
    files: LiveFiles;
    /**
     * For files this library wrote before: their text before that write (`undefined` if they did not
     * exist). It lets an applied plan recompute the same checksum guard, so a re-run shows no change.
     */
    priorWrites: LiveFiles;
    /** `containerd config dump`, the effective config, where containerd is installed. */
    containerdDump: string | undefined;
    /**
     * Per file: the write generation this library recorded on the host with its last run of the file's
     * step (absent: 0). A plan that sees drift asks for the next one, so the repairing step's inputs
     * differ from the last applied ones and the engine runs it (see sdk/steps/guardedFileStep.ts).
     */
    generations?: Record<string, number>;
    /** Files whose last edit was nvidia-ctk's on the host (the toolkit config, when the package created it in the same run). */
    editedByNvidiaCtk?: string[];
    /** Binary watched files (keyrings), by path. */
    binaryFiles?: Record<string, BinaryFileState>;
    /** Packages, services, the CDI spec and MIG, by the step that manages them: now and as last applied (issue 22). */
    objects?: Record<string, ObjectState>;
}

const FILES_MARKER = "--- pulumi-nvidia-gpu files ---";

/** The probe followed by the files, base64-encoded, in one script: one SSH session per host. */
export function snapshotScript(files: WatchedFile[]): string {
    const reads = files.map(({ path: p, userOwned, binary }) => {
        if (!p.startsWith("/")) throw new GpuConfigError("snapshot path", `${JSON.stringify(p)} is not absolute`, "use an absolute path");
        const backup = backupPath(p, userOwned ?? false);
        const prev = `${backup}.prev`;
        if (binary) {
            return lines(
                sh`if [ -e ${p} ]; then printf 'sum %s %s\\n' ${p} "$(sha256sum < ${p} | cut -d ' ' -f 1)"; else printf 'sum %s absent\\n' ${p}; fi`,
                sh`if [ -r ${prev} ]; then printf 'priorsum %s %s\\n' ${p} "$(sha256sum < ${prev} | cut -d ' ' -f 1)"; elif [ -e ${prev + "-absent"} ]; then printf 'priorsum %s absent\\n' ${p}; fi`,
                sh`if [ -r ${backup + ".written"} ]; then printf 'written %s %s\\n' ${p} "$(head -c 64 ${backup + ".written"} | tr -cd 0-9a-f)"; fi`,
                sh`if [ -r ${backup + ".gen"} ]; then printf 'gen %s %s\\n' ${p} "$(head -c 20 ${backup + ".gen"} | tr -cd 0-9)"; fi`,
            );
        }
        return lines(
            sh`if [ -r ${p} ]; then printf 'file %s %s\\n' ${p} "$(base64 -w0 < ${p})"; elif [ -e ${p} ]; then printf 'unreadable %s\\n' ${p}; else printf 'missing %s\\n' ${p}; fi`,
            sh`if [ -r ${prev} ]; then printf 'prior %s %s\\n' ${p} "$(base64 -w0 < ${prev})"; elif [ -e ${prev + "-absent"} ]; then printf 'prior-absent %s\\n' ${p}; fi`,
            sh`if [ -r ${backup + ".gen"} ]; then printf 'gen %s %s\\n' ${p} "$(head -c 20 ${backup + ".gen"} | tr -cd 0-9)"; fi`,
            sh`if [ -e ${backup + ".by-nvidia-ctk"} ]; then printf 'ctk-edited %s\\n' ${p}; fi`,
        );
    });
    return script(
        // The probe is a trusted file of this library; it runs in its own shell so its `set -u` stays there.
        sh`sh -c ${PROBE_SCRIPT}`,
        sh`echo ${FILES_MARKER}`,
        lines(...reads),
        // The effective containerd config is read only for plans that edit containerd: it is the slowest read.
        files.some((f) => f.path === "/etc/containerd/config.toml")
            ? sh`if command -v containerd >/dev/null 2>&1; then printf 'dump %s\\n' "$(containerd config dump 2>/dev/null | base64 -w0)"; fi`
            : sh`:`,
        objectsReadFragment(),
        ...files.filter((f) => f.userOwned && f.owner !== undefined).map((f) => userObjectsReadFragment(f.path, f.owner!)),
    );
}

/** Parses what snapshotScript printed. */
export function parseSnapshot(output: string, host = "host"): HostSnapshot {
    const at = output.indexOf(FILES_MARKER);
    if (at === -1) throw new GpuConfigError(`snapshot of ${host}`, "has no file section", "run the snapshot script of this library version");
    const facts = parseHostFacts(output.slice(0, at), host);
    const files: LiveFiles = {};
    const priorWrites: LiveFiles = {};
    let containerdDump: string | undefined;
    const generations: Record<string, number> = {};
    const editedByNvidiaCtk: string[] = [];
    const binaryFiles: Record<string, BinaryFileState> = {};
    const binary = (path: string) => (binaryFiles[path] ??= { sum: "absent" });
    for (const line of output.slice(at + FILES_MARKER.length).split("\n")) {
        const [kind, first, second] = line.split(" ");
        if (kind === "file") files[first] = Buffer.from(second ?? "", "base64").toString("utf8");
        else if (kind === "missing") files[first] = undefined;
        else if (kind === "prior") priorWrites[first] = Buffer.from(second ?? "", "base64").toString("utf8");
        else if (kind === "prior-absent") priorWrites[first] = undefined;
        else if (kind === "unreadable") {
            throw new GpuConfigError(`${host}:${first}`, "cannot be read by the SSH user", "make it readable, or connect as a user who can read it");
        } else if (kind === "dump" && first) containerdDump = Buffer.from(first, "base64").toString("utf8");
        else if (kind === "gen" && /^\d+$/.test(second ?? "")) generations[first] = Number(second);
        else if (kind === "ctk-edited") editedByNvidiaCtk.push(first);
        else if (kind === "sum" && second) binary(first).sum = second;
        else if (kind === "priorsum" && second) binary(first).prior = second;
        else if (kind === "written" && second) binary(first).written = second;
    }
    return { facts, files, priorWrites, containerdDump, generations, editedByNvidiaCtk, binaryFiles, objects: parseObjects(output.slice(at)) };
}
