import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderDockerConfig } from "../../../sdk/runtime/dockerDaemonJson";
import { ABSENT, backupPath, fileStep, sha256 } from "../../../sdk/steps/fileStep";
import { sh } from "../../../sdk/shell/shellScript";

/** Runs the generated scripts for real, as the host's shell would, against files in a temporary folder. */
function run(scriptText: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("sh", ["-c", scriptText], { encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("fileStep (scripts executed with sh)", () => {
    let dir: string;
    let target: string;
    const original = '{\n  "bridge": "none",\n  "iptables": false\n}';
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "filestep-"));
        target = path.join(dir, "daemon.json");
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(path.dirname(backupPath(target, false)), { recursive: true, force: true });
    });

    function stepFor(current: string | undefined, guard = current === undefined ? ABSENT : sha256(current)) {
        return fileStep("docker-daemon-json", "test", renderDockerConfig(current, { path: target, setAsDefault: true }), {
            guard,
            validate: sh`python3 -m json.tool "$tmp" >/dev/null`,
        });
    }

    it("writes the rendered bytes exactly, keeps the file's mode, then reports unchanged", () => {
        fs.writeFileSync(target, original, { mode: 0o640 });
        const step = stepFor(original);
        const first = run(step.script);
        assert.equal(first.status, 0, first.stderr);
        assert.match(first.stdout, /^changed /);
        assert.equal(fs.readFileSync(target, "utf8"), step.files![0].text);
        assert.ok(!fs.readFileSync(target, "utf8").endsWith("\n"), "no newline added where the original had none");
        assert.equal(fs.statSync(target).mode & 0o777, 0o640);
        const second = run(step.script);
        assert.equal(second.status, 0);
        assert.match(second.stdout, /^unchanged /);
    });

    it("refuses to write when the file changed after the preview read it, and leaves it as it is", () => {
        fs.writeFileSync(target, original);
        const step = stepFor(original);
        const handEdited = original.replace("none", "docker0");
        fs.writeFileSync(target, handEdited);
        const result = run(step.script);
        assert.equal(result.status, 3);
        assert.match(result.stderr, /changed since it was read for the preview.*nothing was written/);
        assert.equal(fs.readFileSync(target, "utf8"), handEdited);
    });

    it("undo restores the original byte for byte, and removes a file it created", () => {
        fs.writeFileSync(target, original);
        const step = stepFor(original);
        assert.equal(run(step.script).status, 0);
        assert.notEqual(fs.readFileSync(target, "utf8"), original);
        assert.equal(run(step.undoScript!).status, 0);
        assert.equal(fs.readFileSync(target, "utf8"), original);

        fs.rmSync(target);
        const created = stepFor(undefined);
        assert.equal(run(created.script).status, 0);
        assert.ok(fs.existsSync(target));
        assert.equal(run(created.undoScript!).status, 0);
        assert.ok(!fs.existsSync(target));
    });

    it("keeps the original when the new content fails validation", () => {
        fs.writeFileSync(target, original);
        const bad = fileStep(
            "bad",
            "test",
            { path: target, previous: original, text: "{ not json", changed: true, summary: [] },
            { guard: sha256(original), validate: sh`python3 -m json.tool "$tmp" >/dev/null` },
        );
        const result = run(bad.script);
        assert.equal(result.status, 4);
        assert.match(result.stderr, /is not valid, so it was not written/);
        assert.equal(fs.readFileSync(target, "utf8"), original);
        assert.deepEqual(fs.readdirSync(dir), ["daemon.json"], "no temporary file left behind");
    });

    it("writes content holding its own heredoc delimiter, quotes and $ verbatim", () => {
        const tricky = "NVIDIA_GPU_X_EOF\n$(reboot) `id` '\"\\\nNVIDIA_GPU_X_EOF\n";
        const step = fileStep("x", "test", { path: target, previous: undefined, text: tricky, changed: true, summary: [] });
        assert.equal(run(step.script).status, 0);
        assert.equal(fs.readFileSync(target, "utf8"), tricky);
    });
});
