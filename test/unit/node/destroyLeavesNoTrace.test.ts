import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { STATE_ROOT, fileStep } from "../../../sdk/steps/fileStep";
import { renderResult } from "../../../sdk/steps/renderResult";
import { cdiSpecStep } from "../../../sdk/toolkit/toolkitSteps";
import { removesCreatedDir, withStateCleanup } from "../../../sdk/steps/stateCleanup";

function run(text: string, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("sh", ["-c", text], { encoding: "utf8", env });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/*
 * Issue 22: destroy left /run/cdi (absent before; the cdi-spec step's `mkdir -p`), 13 empty folders under
 * /var/lib/pulumi-nvidia-gpu and a 0-byte lock. These run the real undo scripts on this machine's state folder; what
 * another run keeps there (files) stays, so the checks are on what each test made.
 */
describe("destroy leaves no trace (issue 22)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "no-trace-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the CDI step's undo removes the folder the step created, and keeps one that was there before", () => {
        const fakeBin = path.join(dir, "bin");
        fs.mkdirSync(fakeBin);
        // Stand-ins: nvidia-ctk writes a one-line spec; no systemd, so no nvidia-cdi-refresh unit.
        fs.writeFileSync(
            path.join(fakeBin, "nvidia-ctk"),
            '#!/bin/sh\nif [ "$1 $2" = "cdi generate" ]; then out=${3#--output=}; printf "cdiVersion: 0.5.0\\n" > "$out"; fi\n',
            { mode: 0o755 },
        );
        fs.writeFileSync(path.join(fakeBin, "systemctl"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        const env = { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` };
        for (const existed of [false, true]) {
            const cdiDir = path.join(dir, existed ? "cdi-before" : "cdi-new");
            if (existed) fs.mkdirSync(cdiDir);
            const output = path.join(cdiDir, "nvidia.yaml");
            const [step] = withStateCleanup([cdiSpecStep()]);
            const create = run(step.script.replace(/^output=.*$/m, `output=${output}`), env);
            assert.equal(create.status, 0, create.stderr);
            assert.ok(fs.existsSync(output));
            const undo = run(step.undoScript!.replace(/^output=.*$/m, `output=${output}`), env);
            assert.equal(undo.status, 0, undo.stderr);
            assert.equal(fs.existsSync(output), false, "the spec the step wrote is gone");
            assert.equal(fs.existsSync(cdiDir), existed, existed ? "a folder that was there stays" : "the folder the step created is gone");
        }
    });

    it("every undo ends by removing the state folder's empty folders and, once nothing else is left, the lock", () => {
        const mine = path.join(STATE_ROOT, "backup", `no-trace-${process.pid}`, "etc", "docker");
        fs.mkdirSync(mine, { recursive: true });
        fs.closeSync(fs.openSync(path.join(STATE_ROOT, "lock"), "a"));
        const [step] = withStateCleanup([
            { name: "t", description: "t", script: "#!/bin/sh\n:\n", undoScript: "#!/bin/sh\nset -eu\necho undone\n", changes: [], root: true },
        ]);
        const r = run(step.undoScript!);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /undone/);
        assert.equal(fs.existsSync(path.join(STATE_ROOT, "backup", `no-trace-${process.pid}`)), false, "empty state folders are removed");
        const left = fs.existsSync(STATE_ROOT) ? fs.readdirSync(STATE_ROOT) : [];
        assert.ok(!left.includes("lock") || left.length > 1, `the lock goes once it is alone (left: ${left.join(", ")})`);
        assert.ok(left.length > 0 || !fs.existsSync(STATE_ROOT), "an empty state folder is removed");
    });

    it("a drop-in step's undo removes the folders it made for the drop-in (containerd's conf.d; the drift matrix found it left)", () => {
        const confD = path.join(dir, "containerd", "conf.d");
        const file = path.join(confD, "99-nvidia.toml");
        const [step] = withStateCleanup([removesCreatedDir(fileStep("drop-in", "drop-in", renderResult(file, undefined, "version = 2\n", [])), confD)]);
        const create = run(step.script);
        assert.equal(create.status, 0, create.stderr);
        assert.ok(fs.existsSync(file));
        const undo = run(step.undoScript!);
        assert.equal(undo.status, 0, undo.stderr);
        assert.deepEqual(fs.readdirSync(dir), [], "conf.d and the containerd folder above it, both made by the step, are gone");
        fs.mkdirSync(confD, { recursive: true });
        assert.equal(run(step.script).status, 0);
        assert.equal(run(step.undoScript!).status, 0);
        assert.ok(fs.existsSync(confD), "a conf.d that was there before stays");
    });

    it("a user's step removes its backup folder beside the file (~/.config/docker/.nvidia-gpu-backup) once only the lock is left", () => {
        const file = path.join(dir, "daemon.json");
        const user = os.userInfo().username;
        const [step] = withStateCleanup([{ ...fileStep("user", "user", renderResult(file, undefined, "{}\n", []), { owner: user }), runAs: user }]);
        const create = run(step.script);
        assert.equal(create.status, 0, create.stderr);
        assert.ok(fs.existsSync(path.join(dir, ".nvidia-gpu-backup")), "the step keeps its backups beside the file");
        const undo = run(step.undoScript!);
        assert.equal(undo.status, 0, undo.stderr);
        assert.deepEqual(fs.readdirSync(dir), [], "the file it made and its backup folder are gone");
    });

    it("the undo's own exit status and set -e are kept", () => {
        const [failing] = withStateCleanup([
            { name: "t", description: "t", script: "#!/bin/sh\n:\n", undoScript: "#!/bin/sh\nset -eu\nfalse\necho after\n", changes: [], root: true },
        ]);
        const r = run(failing.undoScript!);
        assert.equal(r.status, 1);
        assert.doesNotMatch(r.stdout, /after/, "set -e still stops the undo at its first failure");
        const [exiting] = withStateCleanup([
            { name: "t", description: "t", script: "#!/bin/sh\n:\n", undoScript: "#!/bin/sh\nexit 3\n", changes: [], root: true },
        ]);
        assert.equal(run(exiting.undoScript!).status, 3);
    });
});
