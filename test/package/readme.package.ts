import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { WORK, installPackage, project, typeCheck } from "./consumerProject";
import { freshClone, freshEnv } from "./freshClone";
import { readmeBlocks } from "./readme";

/** The README's snippets run as written (issue 26): a user copies them, so a test does too. */
describe("the README's snippets, as written (issue 26)", function () {
    this.timeout(900000);

    it("the TypeScript of “From a Pulumi program” (its blocks in order) type-checks against the packed package under Pulumi's template tsconfig", () => {
        installPackage();
        const ts = readmeBlocks("## From a Pulumi program").filter((b) => b.lang === "ts");
        assert.ok(ts.length >= 1, "a TypeScript block");
        // A later block continues the first one (it uses its `node` and `cfg`), so they are one program, in order.
        const r = typeCheck(project("readme-typescript", { "index.ts": ts.map((b) => b.text).join("\n") }));
        assert.deepEqual(
            r.diagnostics.map((d) => `${d.file}: ${d.code} ${d.message}`),
            [],
        );
        assert.equal(r.code, 0, r.output.slice(0, 4000));
    });

    it("the shell of “`pulumi up` offline, with the engine built here” runs on a fresh machine: the preview passes, and `pulumi up` is reached", () => {
        const blocks = readmeBlocks("### `pulumi up` offline, with the engine built here").filter((b) => b.lang === "sh");
        assert.equal(blocks.length, 1, "one shell block");
        const clone = freshClone(path.join(WORK, "offline-engine/pulumi-nvidia-gpu"), true);
        const home = path.join(WORK, "offline-engine/home");
        fs.mkdirSync(path.join(home, ".ssh"), { recursive: true });
        // What the block assumes of its user: an SSH key at the usual place.
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(home, ".ssh/id_ed25519")]);
        // In a network namespace of its own (loopback only): the example's hosts are documentation addresses
        // (192.0.2.0/24), which the preview may try but not reach, and setup-engine.sh must find its cache.
        const r = spawnSync("unshare", ["-n", "sh", "-c", `ip link set lo up && cd "$1" && sh -e -c "$2"`, "sh", clone, blocks[0].text], {
            env: freshEnv(home),
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
            timeout: 600000,
        });
        const output = `${r.stdout}\n${r.stderr}`;
        assert.doesNotMatch(output, /unable to open bucket/, output.slice(-4000));
        assert.match(output, /setup-engine: pulumi-language-go/, `setup-engine.sh ran:\n${output.slice(-4000)}`);
        const stackFile = fs.readFileSync(path.join(clone, "Pulumi.example.yaml"), "utf8");
        assert.match(
            stackFile,
            /nvidia-gpu-fleet:privateKey:\s+secure: /,
            `\`pulumi stack init\` and \`pulumi config set --secret\` ran:\n${output.slice(-4000)}`,
        );
        assert.match(output, /Resources:\s+\+ \d+ to create/, `the preview ran:\n${output.slice(-4000)}`);
        // `pulumi up` is reached; without a terminal it asks for --yes, and with one it could not reach the hosts.
        assert.notEqual(r.status, 0);
        assert.match(output, /--yes|192\.0\.2\.1[0-2]/, `\`pulumi up\` ran:\n${output.slice(-4000)}`);
    });
});
