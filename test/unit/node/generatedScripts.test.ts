import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { allGeneratedSteps } from "../../helpers/allScripts";

describe("generated scripts", () => {
    const steps = allGeneratedSteps();

    it("cover the toolkit for apt, dnf and zypper, the driver for four families, and every runtime", () => {
        const labels = steps.map((s) => s.label.split("/")[0]);
        for (const want of [
            "toolkit-apt",
            "toolkit-dnf",
            "toolkit-zypper",
            "driver-ubuntu24.04",
            "driver-rocky9",
            "driver-sles15.6",
            "node-docker",
            "node-docker-rootless",
            "node-containerd",
            "node-crio",
        ]) {
            assert.ok(labels.includes(want), want);
        }
    });

    it("are clean under shellcheck (POSIX sh), create and undo scripts alike", function () {
        this.timeout(120000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shellcheck-"));
        const files: string[] = [];
        steps.forEach(({ label, step }, i) => {
            for (const [kind, text] of [
                ["create", step.script],
                ["undo", step.undoScript],
            ] as const) {
                if (text === undefined) continue;
                const file = path.join(dir, `${i}-${label.replace(/[^A-Za-z0-9.-]/g, "_")}-${kind}.sh`);
                fs.writeFileSync(file, text);
                files.push(file);
            }
        });
        const result = spawnSync("shellcheck", ["-s", "sh", "-S", "info", ...files], { encoding: "utf8" });
        fs.rmSync(dir, { recursive: true, force: true });
        assert.equal(result.error, undefined, "shellcheck is installed (test/tools/setup.sh)");
        assert.equal(result.status, 0, result.stdout);
        assert.ok(files.length > 60, `checked ${files.length} scripts`);
    });

    it("and the repository's own shell scripts are clean under shellcheck too", () => {
        const root = path.resolve(__dirname, "..", "..", "..");
        const scripts = [
            "sdk/host/probe.sh",
            ...fs
                .readdirSync(path.join(root, "test/e2e/fleet"))
                .filter((f) => f.endsWith(".sh"))
                .map((f) => `test/e2e/fleet/${f}`),
            ...fs
                .readdirSync(path.join(root, "test/tools"))
                .filter((f) => f.endsWith(".sh"))
                .map((f) => `test/tools/${f}`),
        ];
        const sh = spawnSync("shellcheck", ["-s", "sh", ...scripts], { cwd: root, encoding: "utf8" });
        assert.equal(sh.status, 0, sh.stdout);
        const bash = spawnSync("shellcheck", ["-s", "bash", ".ci/run"], { cwd: root, encoding: "utf8" });
        assert.equal(bash.status, 0, bash.stdout);
    });

    it("parse as sh (sh -n)", () => {
        for (const { label, step } of steps) {
            execFileSync("sh", ["-n"], { input: step.script });
            if (step.undoScript) execFileSync("sh", ["-n"], { input: step.undoScript });
            assert.ok(step.script.startsWith("#!/bin/sh\nset -eu\n"), `${label} starts with set -eu`);
        }
    });
});
