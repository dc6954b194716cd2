import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { combinedScript } from "../../../sdk/steps/combinedScript";
import { driverPlan } from "../../../sdk/driver/driverPlan";
import { PlanStep } from "../../../sdk/steps/planStep";
import { toolkitPlan } from "../../../sdk/toolkit/toolkitPlan";

function fakeStep(name: string, body: string): PlanStep {
    return { name, description: `fake ${name}`, script: `#!/bin/sh\nset -eu\n${body}\n`, changes: [], root: true };
}

/** Runs the script the way a user does (`… | sh`): the script itself comes on stdin. */
function runPiped(text: string, shell = "sh") {
    const [command, ...args] = shell === "busybox" ? ["busybox", "sh"] : [shell];
    return spawnSync(command, args, { input: text, encoding: "utf8" });
}

function shellcheck(texts: string[]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "combined-"));
    const files = texts.map((text, i) => {
        const file = path.join(dir, `${i}.sh`);
        fs.writeFileSync(file, text);
        return file;
    });
    const result = spawnSync("shellcheck", ["-s", "sh", "-S", "info", ...files], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    return result;
}

describe("combinedScript: one POSIX script for a plan's steps", () => {
    const shells = ["sh", "bash", "busybox"].filter((s) => spawnSync("sh", ["-c", `command -v ${s}`]).status === 0);

    for (const shell of shells) {
        it(`(${shell}) a step that finds nothing to do (exit 0) ends only itself; the others still run, in order`, () => {
            const text = combinedScript(
                [fakeStep("first", "echo unchanged; exit 0\necho never-first"), fakeStep("second", "echo ran-second"), fakeStep("third", "echo ran-third")],
                "test",
            );
            const r = runPiped(text, shell);
            assert.equal(r.status, 0, r.stderr);
            assert.doesNotMatch(r.stdout, /never-first/);
            const order = ["unchanged", "ran-second", "ran-third"].map((w) => r.stdout.indexOf(w));
            assert.ok(
                order.every((at) => at >= 0),
                r.stdout,
            );
            assert.deepEqual(
                [...order].sort((a, b) => a - b),
                order,
                r.stdout,
            );
        });
    }

    it("stops at the first failing step, with its exit status and a line naming it", () => {
        const text = combinedScript(
            [fakeStep("good", "echo ran-good"), fakeStep("toolkit-key", "echo about-to-fail; exit 11"), fakeStep("after", "echo ran-after")],
            "test",
        );
        const r = runPiped(text);
        assert.equal(r.status, 11);
        assert.match(r.stdout, /ran-good/);
        assert.match(r.stdout, /about-to-fail/);
        assert.doesNotMatch(r.stdout, /ran-after/);
        assert.match(r.stderr, /^error: step 2\/3 \(toolkit-key\) failed with exit status 11; the steps after it did not run$/m);
    });

    it("keeps set -e inside a step: a failing command stops that step and the script", () => {
        const text = combinedScript([fakeStep("strict", "false\necho after-false"), fakeStep("next", "echo ran-next")], "test");
        const r = runPiped(text);
        assert.equal(r.status, 1);
        assert.doesNotMatch(r.stdout, /after-false|ran-next/);
        assert.match(r.stderr, /step 1\/2 \(strict\) failed/);
    });

    it("runs a step's EXIT trap when the step ends, and keeps its variables to itself", () => {
        const text = combinedScript(
            [fakeStep("one", `work=scratch; trap 'echo cleaned-one' EXIT; echo unchanged; exit 0`), fakeStep("two", 'echo "two sees work=${work:-unset}"')],
            "test",
        );
        const r = runPiped(text);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /unchanged\ncleaned-one\n[^]*two sees work=unset/);
    });

    it("gives each step an empty stdin, so a command reading stdin cannot eat the rest of a piped script", () => {
        // Enough steps that their calls outrun the shell's read buffer: the tail is still in the pipe when `cat` runs.
        const many = Array.from({ length: 300 }, (_, i) => fakeStep(`step-${i}`, `echo ran-${i}`));
        const text = combinedScript([fakeStep("reader", "cat >/dev/null; echo read-done"), ...many], "test");
        const r = runPiped(text);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /read-done[^]*ran-299\n/);
    });

    it("is clean under shellcheck as a whole, for fake steps and for the toolkit and driver plans", function () {
        this.timeout(60000);
        const texts = [
            combinedScript([fakeStep("a", "echo unchanged; exit 0"), fakeStep("b", "false")], "fake"),
            ...(["apt", "dnf", "zypper"] as const).map((pm) =>
                combinedScript(toolkitPlan({ version: "1.20.0-1", packageManager: pm, experimental: true }), `toolkit ${pm}`),
            ),
            combinedScript(driverPlan({ distro: { id: "ubuntu", versionId: "24.04" }, branch: "580" }), "driver ubuntu"),
            combinedScript(driverPlan({ distro: { id: "rocky", versionId: "9" }, version: "580.95.05", kernelModules: "proprietary" }), "driver rocky"),
            combinedScript(driverPlan({ distro: { id: "sles", versionId: "15.6" }, branch: "580" }), "driver sles"),
        ];
        const r = shellcheck(texts);
        assert.equal(r.error, undefined, "shellcheck is installed (test/tools/setup.sh)");
        assert.equal(r.status, 0, r.stdout);
    });

    it("has one shebang, and defines the steps' shared helpers (retry, wait_for_lock) once", () => {
        const text = combinedScript(toolkitPlan({ version: "1.20.0-1", packageManager: "apt" }), "toolkit");
        assert.equal(text.match(/^#!/gm)?.length, 1);
        assert.equal(text.match(/^retry\(\) \{$/gm)?.length, 1);
        assert.equal(text.match(/^wait_for_lock\(\) \{$/gm)?.length, 1);
        assert.equal(text.match(/^gpu_node_step_\d+\(\) \($/gm)?.length, 4);
    });

    it("refuses a step that runs as another user, since one script runs as one user", () => {
        assert.throws(() => combinedScript([{ ...fakeStep("user-daemon", "true"), runAs: "alice" }], "t"), /step user-daemon: runs as alice/);
    });
});
