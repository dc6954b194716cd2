import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { GpuConfigError } from "../../../sdk/errors";
import { FakeHostReader, installMocks } from "../../helpers/pulumiMocks";
import { serverFacts } from "../../helpers/serverFacts";

/**
 * pulumi-command 1.2.1 offers an RSA host key only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse after every
 * dial retry, and fails on `hostKey: ""`. Both are refused at preview, naming connection.hostKey, before any step.
 */
const lib = () => require("../../../index") as typeof import("../../../index");
const RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 root@gpu-1";
const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx0iGy0kbBCwC+N0N3q5m5J1VbY1Vd3EfXr6p4tM2Yc";

function settle(output: pulumi.Output<unknown>): Promise<unknown> {
    return (output as unknown as { promise(): Promise<unknown> }).promise().then(
        (v) => `accepted: ${JSON.stringify(v)}`,
        (e: unknown) => e,
    );
}

function node(hostKey: string) {
    installMocks(true);
    const reader = new FakeHostReader({ facts: serverFacts(), files: {}, priorWrites: {}, containerdDump: undefined });
    return new (lib().GpuNode)("gpu-1", { connection: { host: "gpu-1", hostKey } }, { hostReader: reader });
}

describe("connection.hostKey that pulumi-command 1.2.1 cannot use is refused at preview", () => {
    it("an RSA key, saying why and asking for the ed25519 or ECDSA key", async () => {
        for (const key of [RSA, `  ${RSA}`, "rsa-sha2-512 AAAAB3NzaC1yc2EAAAADAQABAAABAQC7"]) {
            const e = await settle(node(key).dockerHost);
            assert.ok(e instanceof GpuConfigError, String(e));
            assert.equal(e.field, "connection.hostKey");
            assert.match(e.message, /pulumi-command 1\.2\.1 negotiates RSA host keys only as ssh-rsa \(SHA-1\), which OpenSSH 8\.8 and later refuse/);
            assert.match(e.message, /ed25519 or ECDSA/);
        }
    });

    it("an empty string", async () => {
        for (const key of ["", "   "]) {
            const e = await settle(node(key).dockerHost);
            assert.ok(e instanceof GpuConfigError, String(e));
            assert.equal(e.field, "connection.hostKey");
            assert.match(e.message, /is empty/);
        }
    });

    it("the step commands' connection refuses it too (their hostKey never reaches the provider)", async () => {
        const { commandConnection } = require("../../../components/connection") as typeof import("../../../components/connection");
        installMocks(true);
        const e = await settle(pulumi.output(commandConnection({ host: "gpu-1", hostKey: RSA }).hostKey!));
        assert.ok(e instanceof GpuConfigError && e.field === "connection.hostKey", String(e));
    });

    it("an ed25519 or ECDSA key is accepted", async () => {
        for (const key of [ED25519, "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA=="]) {
            assert.match(String(await settle(node(key).dockerHost)), /^accepted: "ssh:\/\/root@gpu-1"$/);
        }
    });
});
