import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { GpuConfigError } from "../../../sdk/errors";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { invocationFor, stdinFor } from "../../../sdk/steps/invocation";
import { serverDocker, serverFacts } from "../../helpers/serverFacts";
import { FakeHostReader, installMocks, isSecret, settle, valueOf } from "../../helpers/pulumiMocks";

/**
 * Fuzz finding (issue 14, test/fuzz/results/fuzz-2026-11-29.md): for a non-root SSH user the command is
 * `sudo -S -p '' sh -c '…'` with stdin `<sudoPassword>\n<script>`. `sudo -S` reads one line, so a line break in
 * the password made what followed it the script's first line, run as root. Such a password is refused by name,
 * without its value, before any command is made.
 */
const lib = () => require("../../../index") as typeof import("../../../index");

function nonRootSnapshot(): HostSnapshot {
    const facts = serverFacts();
    facts.docker = serverDocker();
    facts.user = { name: "ops", uid: 1000, sudo: "password" };
    return {
        facts,
        files: { "/etc/docker/daemon.json": "{}\n", "/etc/nvidia-container-runtime/config.toml": undefined },
        priorWrites: {},
        containerdDump: undefined,
    };
}

function rejection(output: pulumi.Output<unknown>): Promise<unknown> {
    return new Promise((resolve) =>
        (output as unknown as { promise(): Promise<unknown> }).promise().then(
            () => resolve(undefined),
            (e: unknown) => resolve(e),
        ),
    );
}

const INJECTED = ["hunter2\ntouch /tmp/pwned", "hunter2\rtouch /tmp/pwned", "hunter2\r\ntouch /tmp/pwned", "hunter2\n", "\nhunter2", "hunter2\0x"];

describe("connection.sudoPassword with a line break (fuzz finding: root command injection)", () => {
    const realInfo = pulumi.log.info;
    beforeEach(() => ((pulumi.log as any).info = () => Promise.resolve()));
    afterEach(() => ((pulumi.log as any).info = realInfo));

    for (const password of INJECTED) {
        it(`a GpuNode for a non-root user refuses ${JSON.stringify(password)} naming connection.sudoPassword, and creates no command`, async () => {
            const recorded = installMocks(true);
            const node = new (lib().GpuNode)(
                "gpu-s",
                { connection: { host: "gpu-s", user: "ops", sudoPassword: pulumi.secret(password) } },
                { hostReader: new FakeHostReader(nonRootSnapshot()) },
            );
            const error = await rejection(node.steps);
            await settle();
            assert.ok(error instanceof GpuConfigError, `refused with a GpuConfigError, got ${String(error)}`);
            assert.equal(error.field, "connection.sudoPassword");
            assert.ok(!error.message.includes("hunter2") && !error.message.includes("pwned"), `the secret is not echoed: ${error.message}`);
            assert.deepEqual(
                recorded.filter((r) => r.type === "command:remote:Command").map((r) => r.name),
                [],
                "no command is created",
            );
        });
    }

    it("a DockerGpuContainer refuses it too (every component resolves its connection the same way)", async () => {
        installMocks(true);
        const c = new (lib().DockerGpuContainer)(
            "app",
            { connection: { host: "gpu-s", user: "ops", sudoPassword: "pw\nid" }, image: "nvidia/cuda:12.4.1-base-ubuntu22.04" },
            { hostReader: new FakeHostReader(nonRootSnapshot()) },
        );
        // The refusal happens when the host is planned: the container's commands are never made.
        const error = await rejection(lib().commandsOf(c));
        assert.ok(error instanceof GpuConfigError && error.field === "connection.sudoPassword", String(error));
    });

    it("keeps a valid secret sudo password secret, on stdin only, first line then the script", async () => {
        const recorded = installMocks(true);
        const node = new (lib().GpuNode)(
            "gpu-ok",
            { connection: { host: "gpu-ok", user: "ops", sudoPassword: pulumi.secret("good pass with spaces") } },
            { hostReader: new FakeHostReader(nonRootSnapshot()) },
        );
        await valueOf(node.steps);
        await settle();
        const step = recorded.find((r) => r.name === "gpu-ok-toolkit-packages")!;
        assert.match(step.inputs.create, /^sudo -S -p '' sh -c /);
        assert.equal(step.inputs.stdin["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", "stdin is a secret");
        assert.ok(step.inputs.stdin.value.startsWith("good pass with spaces\n#!/bin/sh\n"));
        const { resolveConnection } = require("../../../components/connection") as typeof import("../../../components/connection");
        const resolved = resolveConnection({ host: "h", user: "ops", sudoPassword: pulumi.secret("good pass with spaces") });
        assert.equal(await isSecret(resolved), true, "the resolved connection stays secret");
        assert.equal((await valueOf(resolved)).sudoPassword, "good pass with spaces");
    });

    it("stdinFor (the end-to-end runner's path) refuses a password line with a line break, not echoing it", () => {
        const invocation = invocationFor({ script: "#!/bin/sh\necho hi\n", root: true }, "ops", "password");
        for (const password of INJECTED) {
            assert.throws(
                () => stdinFor(invocation, password),
                (e: unknown) => e instanceof GpuConfigError && e.field === "connection.sudoPassword" && !e.message.includes("hunter2"),
                JSON.stringify(password),
            );
        }
        assert.equal(stdinFor(invocation, "pw"), "pw\n#!/bin/sh\necho hi\n");
    });
});
