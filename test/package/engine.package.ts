import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { WORK } from "./consumerProject";
import { freshClone, freshEnv } from "./freshClone";

/**
 * The engine of tools/setup-engine.sh as a user sources it (issue 26): the command provider lives in PULUMI_HOME,
 * laid out as `pulumi plugin install` lays it out, and not on PATH, where the CLI would take it for an ambient
 * plugin and print `warning: using pulumi-resource-command from $PATH` before every command.
 */
const PROGRAM = `name: ambient-check
runtime: yaml
resources:
  step:
    type: command:remote:Command
    properties:
      connection:
        host: 127.0.0.1
      create: "true"
`;

describe("the engine's environment (.tmp/engine.env): the command provider from PULUMI_HOME, not from PATH (issue 26)", function () {
    this.timeout(900000);
    let clone: string;
    let env: NodeJS.ProcessEnv;
    /** `sh -c SCRIPT` in the clone, after sourcing its engine.env. */
    const sourced = (script: string, cwd?: string) =>
        spawnSync("sh", ["-c", `. "$1/.tmp/engine.env" && ${script}`, "sh", clone], { cwd: cwd ?? clone, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });

    before(() => {
        clone = freshClone(path.join(WORK, "engine/pulumi-nvidia-gpu"), true);
        env = freshEnv(path.join(WORK, "engine/home"));
        fs.mkdirSync(env.HOME!, { recursive: true });
        const r = spawnSync("sh", ["tools/setup-engine.sh"], { cwd: clone, env, encoding: "utf8" });
        assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    });

    it("installs the provider into PULUMI_HOME as plugins/resource-command-v1.2.1/pulumi-resource-command, and puts none on PATH", () => {
        const r = sourced(`printf '%s\\n' "$PULUMI_HOME"; command -v pulumi-resource-command || echo none`);
        const [home, onPath] = r.stdout.trim().split("\n");
        assert.equal(home, path.join(clone, ".tmp/pulumi-home"));
        const installed = path.join(home, "plugins/resource-command-v1.2.1/pulumi-resource-command");
        assert.ok(fs.statSync(installed).mode & 0o111, `${installed} is not executable`);
        assert.equal(onPath, "none", "pulumi-resource-command is on PATH");
    });

    it("a pulumi command that loads the provider prints no `using pulumi-resource-command from $PATH` warning", () => {
        const dir = path.join(WORK, "engine/ambient-check");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), PROGRAM);
        const state = path.join(WORK, "engine/state");
        fs.mkdirSync(state, { recursive: true });
        const r = sourced(
            `export PULUMI_BACKEND_URL=file://${state} PULUMI_CONFIG_PASSPHRASE=check && pulumi stack init check --non-interactive && pulumi preview --non-interactive`,
            dir,
        );
        const output = `${r.stdout}\n${r.stderr}`;
        assert.equal(r.status, 0, output);
        assert.match(output, /command:remote:Command/, "the preview loaded the command provider");
        assert.doesNotMatch(output, /from \$PATH/, output);
    });
});
