import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostFacts, parseHostFacts } from "../../../sdk/host/hostFacts";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { REPO_ROOT } from "../../helpers/paths";

export const PROBE_DIR = path.join(REPO_ROOT, "test/fixtures/probe");
export const readProbe = (name: string) => fs.readFileSync(path.join(PROBE_DIR, name), "utf8");
export const factsOf = (name: string): HostFacts => parseHostFacts(readProbe(name));
/** The 2×H200 VM guest, probed on the device machine with the issue 17 probe (real). */
export const h200Vm = () => factsOf("h200x2-vm-datacentre/probe.json");
export const snapshotOf = (facts: HostFacts): HostSnapshot => ({
    facts,
    files: { "/etc/docker/daemon.json": undefined, "/etc/nvidia-container-runtime/config.toml": undefined },
    priorWrites: {},
    containerdDump: undefined,
});
/** A fixture as a systemd server (the recorded VM has no systemd; the hand-made HGX fixtures do). */
export const asServer = (facts: HostFacts): HostFacts => ({ ...facts, systemd: true });

/** A scratch folder with executable fakes; returns the folder. */
export function fakeBin(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dc-fake-"));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text, { mode: 0o755 });
    return dir;
}

/** The section of a `record-fixture.sh` queries file that follows `===== <command>`. */
export function recordedSection(file: string, command: string): string {
    const text = readProbe(file);
    const start = text.indexOf(`===== ${command}\n`);
    if (start < 0) throw new Error(`no section ${command}`);
    const body = text.slice(start + `===== ${command}\n`.length);
    return body.slice(0, body.search(/^\(exit \d+\)$/m));
}
