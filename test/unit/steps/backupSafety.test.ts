import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { backupPath, fileStep, sha256 } from "../../../sdk/steps/fileStep";
import { renderDockerConfig } from "../../../sdk/runtime/dockerDaemonJson";

function run(scriptText: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("sh", ["-c", scriptText], { encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runAsync(scriptText: string): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn("sh", ["-c", scriptText]);
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => resolve({ status, stderr }));
    });
}

/** Scripts run for real against files in a temp folder (their backups go under /var/lib/pulumi-nvidia-gpu, as on a host). */
describe("nothing lost: verified backups and one lock around each write (issue 14)", function () {
    this.timeout(120000);
    let dir: string;
    let target: string;
    const original = `{\n  "bridge": "none",\n  "log-opts": ${JSON.stringify({ pad: "x".repeat(30000) })}\n}\n`;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "backup-"));
        target = path.join(dir, "daemon.json");
        fs.writeFileSync(target, original);
    });
    afterEach(() => {
        spawnSync("umount", [path.dirname(backupPath(target, false))]);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(path.dirname(backupPath(target, false)), { recursive: true, force: true });
    });
    const step = (setAsDefault: boolean) =>
        fileStep("docker-daemon-json", "test", renderDockerConfig(original, { path: target, setAsDefault }), { guard: sha256(original) });

    it("redoes a backup cut short (no recorded checksum), so destroy restores the whole original", () => {
        const backup = backupPath(target, false);
        fs.mkdirSync(path.dirname(backup), { recursive: true });
        fs.writeFileSync(`${backup}.orig`, original.slice(0, 16384)); // what a full disk left behind
        const apply = run(step(true).script);
        assert.equal(apply.status, 0, apply.stderr);
        assert.equal(fs.readFileSync(`${backup}.orig`, "utf8"), original, "the partial backup was redone from the original");
        const undo = run(step(true).undoScript!);
        assert.equal(undo.status, 0, undo.stderr);
        assert.equal(fs.readFileSync(target, "utf8"), original);
    });

    it("refuses to restore a backup whose checksum is wrong, says so, and keeps the current file", () => {
        assert.equal(run(step(true).script).status, 0);
        const applied = fs.readFileSync(target, "utf8");
        const backup = backupPath(target, false);
        fs.writeFileSync(`${backup}.orig`, original.slice(0, 100));
        const undo = run(step(true).undoScript!);
        assert.notEqual(undo.status, 0);
        assert.match(undo.stderr, /does not match its recorded checksum/);
        assert.equal(fs.readFileSync(target, "utf8"), applied, "the current file was kept");
    });

    it("with the backup folder full, writes nothing and says why; once there is room, applies and restores byte for byte", () => {
        const backupDir = path.dirname(backupPath(target, false));
        fs.mkdirSync(backupDir, { recursive: true });
        const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", backupDir]);
        assert.equal(mounted.status, 0, `this test needs root to mount a small tmpfs: ${mounted.stderr}`);
        const full = run(step(true).script);
        assert.notEqual(full.status, 0);
        assert.match(full.stderr, /back up|incomplete|full/);
        assert.equal(fs.readFileSync(target, "utf8"), original, "nothing was written");
        const retry = run(step(true).script);
        assert.notEqual(retry.status, 0, "a second try on the full disk does not use the partial backup");
        spawnSync("umount", [backupDir]);
        const apply = run(step(true).script);
        assert.equal(apply.status, 0, apply.stderr);
        assert.equal(run(step(true).undoScript!).status, 0);
        assert.equal(fs.readFileSync(target, "utf8"), original);
    });

    it("of two applies planned from the same read, one lands and the other refuses: no write is lost silently (20 trials)", async () => {
        for (let trial = 0; trial < 20; trial++) {
            fs.writeFileSync(target, original);
            fs.rmSync(path.dirname(backupPath(target, false)), { recursive: true, force: true });
            const [a, b] = await Promise.all([runAsync(step(true).script), runAsync(step(false).script)]);
            const ok = [a, b].filter((r) => r.status === 0).length;
            assert.equal(ok, 1, `trial ${trial}: exactly one apply succeeds (${a.status}, ${b.status})`);
            const loser = [a, b].find((r) => r.status !== 0)!;
            assert.match(loser.stderr, /changed since it was read for the preview/);
            const landed = fs.readFileSync(target, "utf8");
            assert.ok([step(true).files![0].text, step(false).files![0].text].includes(landed), "the file is exactly one apply's, whole");
        }
    });
});
