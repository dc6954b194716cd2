import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostSnapshot, parseSnapshot, snapshotScript } from "../../../sdk/host/snapshot";
import { backupPath } from "../../../sdk/steps/fileStep";
import { APT_KEYRING, toolkitPlan } from "../../../sdk/toolkit/toolkitPlan";
import { probeFixture } from "../../helpers/paths";

/**
 * The signing key step run for real (real gpg, curl on a file:// URL) against a keyring in a temp folder:
 * the engine invariant and the backup rules hold for the binary keyring as for rendered files (issue 12 bug 5).
 */
describe("the keyring: guarded, backed up, converged → identical inputs (issue 12 bug 5)", function () {
    this.timeout(60000);
    let dir: string;
    let keyring: string;
    let fingerprint: string;
    const run = (text: string) => spawnSync("sh", ["-c", text], { encoding: "utf8" });

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "keyring-"));
        const home = path.join(dir, "gnupg");
        fs.mkdirSync(home, { mode: 0o700 });
        const gpg = (...args: string[]) =>
            execFileSync("gpg", ["--homedir", home, "--batch", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        gpg("--passphrase", "", "--quick-gen-key", "Test Repo <repo@example.invalid>", "ed25519", "sign", "never");
        fs.writeFileSync(path.join(dir, "key.asc"), gpg("--armor", "--export"));
        fingerprint = /^fpr:+([0-9A-F]+):/m.exec(gpg("--with-colons", "--list-keys"))![1];
        keyring = path.join(dir, "keyrings", "nvidia.gpg");
    });
    after(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(path.dirname(backupPath(keyring, false)), { recursive: true, force: true });
    });

    /** The host as the real snapshot script reads it, with the temp keyring standing in for the real path. */
    function read(): HostSnapshot {
        const full = snapshotScript([{ path: keyring, binary: true }]);
        const out = run(`#!/bin/sh\nset -eu\n${full.slice(full.indexOf("echo '--- pulumi-nvidia-gpu files ---'"))}`);
        assert.equal(out.status, 0, out.stderr);
        const snapshot = parseSnapshot(`${probeFixture("debian12-no-gpu.json")}\n${out.stdout}`, "test");
        return {
            ...snapshot,
            binaryFiles: { [APT_KEYRING]: snapshot.binaryFiles![keyring] },
            generations: { [APT_KEYRING]: snapshot.generations?.[keyring] ?? 0 },
        };
    }
    /** The key step planned from that read, pointed at the temp keyring and the file:// key. */
    function keyStep(): { script: string; undo: string } {
        const step = toolkitPlan({ version: "1.20.0-1", packageManager: "apt", keyFingerprint: fingerprint }, read()).find((s) => s.name === "toolkit-key")!;
        const local = (text: string) =>
            text
                .replace(`target=${APT_KEYRING}`, `target=${keyring}`)
                .replace(/^backup=.*$/m, `backup=${backupPath(keyring, false)}`)
                .replace(/^key_url=.*$/m, `key_url=file://${path.join(dir, "key.asc")}`);
        return { script: local(step.script), undo: local(step.undoScript!) };
    }

    it("keeps the key step's inputs identical once converged, changes them on drift, and restores a pre-existing keyring byte for byte", () => {
        fs.mkdirSync(path.dirname(keyring), { recursive: true });
        const original = Buffer.from([0x99, 0x01, 0x0d, 0xff, 0x00, 0x42]); // a keyring that was there before
        fs.writeFileSync(keyring, original);
        const first = keyStep();
        const applied = run(first.script);
        assert.equal(applied.status, 0, applied.stderr);
        assert.match(applied.stdout, /changed/);
        const installed = fs.readFileSync(keyring);

        assert.equal(keyStep().script, first.script, "converged: the same inputs as the step that ran");

        fs.writeFileSync(keyring, Buffer.from("tampered"));
        const drifted = keyStep();
        assert.notEqual(drifted.script, first.script, "drifted: the repairing step differs, so the engine runs it");
        assert.equal(run(drifted.script).status, 0);
        assert.deepEqual(fs.readFileSync(keyring), installed);
        assert.equal(keyStep().script, drifted.script, "converged again");

        const undo = run(first.undo);
        assert.equal(undo.status, 0, undo.stderr);
        assert.deepEqual(fs.readFileSync(keyring), original, "destroy restores the keyring that was there before");
    });

    it("refuses to overwrite a keyring that changed after the preview", () => {
        fs.rmSync(path.dirname(backupPath(keyring, false)), { recursive: true, force: true });
        fs.writeFileSync(keyring, Buffer.from("before the preview"));
        const planned = keyStep();
        fs.writeFileSync(keyring, Buffer.from("changed after the preview"));
        const r = run(planned.script);
        assert.equal(r.status, 3);
        assert.match(r.stderr, /changed since it was read for the preview/);
        assert.equal(fs.readFileSync(keyring, "utf8"), "changed after the preview");
    });
});
