import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { invocationFor, stdinFor } from "../../../sdk/steps/invocation";
import { FOLD_WIDTH } from "../../../sdk/shell/foldedOutput";
import { allGeneratedSteps } from "../../helpers/allScripts";

const LIMIT = 64 * 1024; // pulumi-command 1.2.1's bufio.Scanner token limit: a longer logged line hangs it for good
const longest = (text: string) => Math.max(...text.split("\n").map((l) => Buffer.byteLength(l)));

describe("step output lines (pulumi-command 1.2.1 hangs on a logged line of 64 KiB or more)", () => {
    // A huge single-line config, as a step would print it (a minified daemon.json, a one-line CDI spec).
    // The script builds it (the script itself must also fit in argv, 128 KiB, for the undo form).
    const config = `{"registry-mirrors":[${'"https://mirror.example",'.repeat(6000)}]}`;
    const line = `printf '{"registry-mirrors":['; yes '"https://mirror.example",' | head -n 6000 | tr -d '\\n'; echo ']}'`;
    const script = `#!/bin/sh\nset -eu\n${line}\n{ ${line}; } >&2\necho short\nexit 3\n`;

    for (const via of ["stdin", "argv"] as const) {
        it(`folds every line of stdout and stderr below ${FOLD_WIDTH + 1} bytes and keeps the exit status (script via ${via})`, () => {
            assert.ok(config.length > 2 * LIMIT);
            const invocation = invocationFor({ script, root: true }, "root", "root", via);
            const r = spawnSync("sh", ["-c", invocation.command], { input: stdinFor(invocation, undefined) ?? "", encoding: "utf8" });
            assert.equal(r.status, 3);
            assert.ok(longest(r.stdout) <= FOLD_WIDTH, `longest stdout line ${longest(r.stdout)} bytes`);
            assert.ok(longest(r.stderr) <= FOLD_WIDTH, `longest stderr line ${longest(r.stderr)} bytes`);
            assert.equal(r.stdout.replace(/\n/g, ""), `${config}short`, "nothing is lost, only line breaks added");
            assert.equal(r.stderr.replace(/\n/g, ""), config);
        });
    }

    it("every step kind (apt, dnf, zypper; driver, toolkit, runtimes, data centre) runs through that wrapper, as root, through sudo and as its user", () => {
        const fold = `awk '\\''{ while (length($0) > ${FOLD_WIDTH})`;
        const steps = allGeneratedSteps();
        assert.ok(steps.length > 50, `${steps.length} steps`);
        for (const { label, step } of steps) {
            for (const [user, sudo] of [
                ["root", "root"],
                ["ops", "passwordless"],
                ["ops", "password"],
            ] as const) {
                assert.ok(invocationFor(step, user, sudo).command.includes(fold), `${label} (${sudo}) does not fold its output`);
                if (step.undoScript !== undefined)
                    assert.ok(invocationFor({ ...step, script: step.undoScript }, user, sudo, "argv").command.includes(fold), `${label} undo (${sudo})`);
            }
        }
    });
});
