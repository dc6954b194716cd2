import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { dockerContainerStep } from "../../sdk/workloads/dockerContainer";
import { invocationFor } from "../../sdk/steps/invocation";
import { quote } from "../../sdk/shell/shellScript";
import { CaseResult, escapesIn, runInSandbox } from "./sandbox";

/**
 * The escape detector of the fuzz sandbox, proven on scripts that do escape: if it missed these, the fuzz run's
 * escapes=0 would mean nothing. And the sandbox's walls: the host's /etc, /var and /usr stay out of reach.
 */
describe("fuzz sandbox: the escape detector and the sandbox's walls", function () {
    this.timeout(120000);
    const image = "nvidia/cuda:12.4.1-base-ubuntu22.04";
    let results: Map<string, CaseResult>;

    // A step of the library, with the user's value written into its script unquoted, as a careless template would.
    const unquotedStep = (value: string) => {
        const step = dockerContainerStep({ name: "smi", image, args: ["nvidia-smi"] });
        return { ...step, script: step.script.replace(`${image} nvidia-smi`, `${image} ${value}`) };
    };
    const asSent = (script: string, stdin?: string) => {
        const invocation = invocationFor({ script, root: true }, "root", "root");
        return { command: invocation.command, stdin: stdin ?? invocation.stdin };
    };

    before(async () => {
        const split = "x touch /tmp/fuzz-canary-902";
        const cases = [
            { id: "unquoted-substitution", commands: [asSent(unquotedStep("a;fuzzpwn 901").script)] },
            { id: "unquoted-words", commands: [asSent(unquotedStep(split).script)] },
            { id: "quoted", commands: [asSent(unquotedStep(quote("a;fuzzpwn 901")).script), asSent(unquotedStep(quote(split)).script)] },
            {
                id: "password-line",
                commands: [
                    {
                        command: invocationFor({ script: "#!/bin/sh\necho hi\n", root: true }, "ops", "password").command,
                        stdin: "pw\nfuzzpwn 903\n#!/bin/sh\necho hi\n",
                    },
                ],
            },
            {
                id: "walls",
                commands: [
                    {
                        command: [
                            "echo probe > /etc/fuzz-sandbox-probe",
                            "echo probe > /var/fuzz-sandbox-probe",
                            "(echo probe > /usr/lib/fuzz-sandbox-probe) 2>/dev/null && echo usr-lib-writable || echo usr-lib-read-only",
                            "(echo probe > /usr/bin/fuzz-sandbox-probe) 2>/dev/null && echo usr-bin-writable || echo usr-bin-read-only",
                            "grep -c '^alice:x:1000:' /etc/passwd",
                            "ls /work /root/.npm /var/lib/docker 2>&1 | head -3",
                            "command -v apt-get",
                            "apt-get install -y nvidia-container-toolkit",
                        ].join("; "),
                    },
                ],
            },
        ];
        results = new Map((await runInSandbox(cases)).map((r) => [r.id, r]));
    });

    it("detects a value interpolated unquoted into a script: the payload runs and leaves its canary", () => {
        const found = escapesIn(results.get("unquoted-substitution")!);
        assert.ok(found.includes("payload command ran (fuzzpwn 901)"), found.join("\n"));
        assert.ok(found.includes("canary file /tmp/fuzz-canary-901"), found.join("\n"));
    });

    it("detects a value split into words even where nothing runs: the stub got the injected word alone", () => {
        const found = escapesIn(results.get("unquoted-words")!);
        assert.ok(
            found.some((e) => e.startsWith('docker got the injected word "touch"')),
            found.join("\n"),
        );
        assert.ok(found.some((e) => e.startsWith('docker got the injected word "/tmp/fuzz-canary-902"')));
    });

    it("detects a command smuggled in after the sudo password line on stdin", () => {
        assert.ok(escapesIn(results.get("password-line")!).includes("payload command ran (fuzzpwn 903)"));
    });

    it("reports nothing for the same values quoted: the detector does not cry wolf", () => {
        const quoted = results.get("quoted")!;
        assert.deepEqual(escapesIn(quoted), []);
        assert.deepEqual(quoted.exitCodes, [0, 0]);
        const run = quoted.calls.filter((c) => c.name === "docker" && c.argv[0] === "run").map((c) => c.argv.at(-1));
        assert.deepEqual(run, ["a;fuzzpwn 901", "x touch /tmp/fuzz-canary-902"], "each value reached docker as one argument");
    });

    it("keeps the host out of reach: writes land in the sandbox's tmpfs, /usr is read-only, host commands are stand-ins", () => {
        const walls = results.get("walls")!;
        assert.equal(walls.exitCodes[0], 0, walls.stderr[0]);
        const out = walls.stdout[0];
        assert.match(out, /usr-lib-read-only/);
        assert.match(out, /usr-bin-read-only/);
        assert.match(out, /^1$/m, "the sandbox's own /etc/passwd");
        assert.match(out, /No such file/, "no host folder is visible");
        assert.match(out, /^\/usr\/bin\/apt-get$/m);
        assert.deepEqual(walls.calls, [{ name: "apt-get", argv: ["install", "-y", "nvidia-container-toolkit"] }]);
        for (const p of ["/etc/fuzz-sandbox-probe", "/var/fuzz-sandbox-probe", "/usr/lib/fuzz-sandbox-probe", "/usr/bin/fuzz-sandbox-probe"]) {
            assert.equal(fs.existsSync(p), false, `${p} reached the host`);
        }
    });
});
