import { strict as assert } from "node:assert";
import { GpuConfigError } from "../../../sdk/errors";
import { rootlessDaemonJsonPath, validateCdiSpecOutput, validateHomeFolder, validateNoNul, validateNoNulDeep } from "../../../sdk/validate";
import { FakeHostReader, installMocks } from "../../helpers/pulumiMocks";
import { serverFacts } from "../../helpers/serverFacts";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { SshHostReader } from "../../../components/hostReader";

const lib = () => require("../../../index") as typeof import("../../../index");
const connection = { host: "gpu.example" };

function snapshot(files: Record<string, string | undefined> = {}): HostSnapshot {
    return { facts: serverFacts(), files: { "/etc/nvidia-container-runtime/config.toml": undefined, ...files }, priorWrites: {}, containerdDump: undefined };
}

/** The output's value, or the error its apply threw. */
function settled<T>(output: import("@pulumi/pulumi").Output<T>): Promise<{ value?: T; error?: unknown }> {
    return (output as unknown as { promise(): Promise<T> }).promise().then(
        (value) => ({ value }),
        (error) => ({ error }),
    );
}

function assertConfigError(error: unknown, field: RegExp): void {
    assert.ok(error instanceof GpuConfigError, `expected a GpuConfigError, got ${String(error)}`);
    assert.match(error.field, field);
}

describe("validation: user-given paths (issue 14)", () => {
    it("CdiSpec.output: only a .yaml/.json file directly in /etc/cdi or /var/run/cdi", () => {
        for (const ok of ["/etc/cdi/nvidia.yaml", "/var/run/cdi/nvidia.yaml", "/etc/cdi/nvidia-gpu.json", "/var/run/cdi/a_b+c@d.yaml"]) {
            assert.equal(validateCdiSpecOutput(ok), ok);
        }
        const refused = [
            "/etc/passwd",
            "-x",
            "/etc/cdi/-x.yaml",
            "/etc/cdi/../passwd.yaml",
            "/etc/cdi/./nvidia.yaml",
            "/var/run/cdi/sub/nvidia.yaml",
            "etc/cdi/nvidia.yaml",
            "/etc/cdi/nvidia.yml",
            "/etc/cdi/nvidia.yaml\0",
            "/etc/cdi/.yaml",
            "/etc/cdi/.hidden.yaml",
            "/etc/cdi/a b.yaml",
            "/etc/cdi/a\nb.yaml",
            "/etc/cdi/$(id).yaml",
            "/etc/cdi//nvidia.yaml",
            "/etc/cdi/nvidia.yaml/",
            "",
        ];
        for (const bad of refused) {
            assert.throws(
                () => validateCdiSpecOutput(bad),
                (e: unknown) => {
                    assertConfigError(e, /^output$/);
                    if (!bad.includes("\0")) assert.match((e as GpuConfigError).fix, /\/etc\/cdi, \/var\/run\/cdi or \/run\/cdi/);
                    return true;
                },
                JSON.stringify(bad),
            );
        }
    });

    it("CdiSpec.output: /run/cdi is accepted, the folder /var/run/cdi names on every systemd host (issue 26)", () => {
        for (const ok of ["/run/cdi/nvidia.yaml", "/run/cdi/nvidia-gpu.json"]) assert.equal(validateCdiSpecOutput(ok), ok);
        for (const bad of ["/run/cdi/sub/nvidia.yaml", "/run/nvidia.yaml", "/run/cdi/../nvidia.yaml"]) {
            assert.throws(() => validateCdiSpecOutput(bad), GpuConfigError, JSON.stringify(bad));
        }
    });

    it("CdiSpec refuses /etc/passwd and -x by field before the host is read (create replaced, destroy deleted it)", async () => {
        for (const output of ["/etc/passwd", "-x"]) {
            const recorded = installMocks(true);
            const reader = new FakeHostReader(snapshot());
            const cdi = new (lib().CdiSpec)("cdi", { connection, output }, { hostReader: reader });
            const { error } = await settled(cdi.devices);
            assertConfigError(error, /^output$/);
            assert.deepEqual(reader.asked, [], "the host was not read");
            assert.equal(recorded.filter((r) => r.type === "command:remote:Command").length, 0);
        }
    });

    it("rootlessHome: absolute, plain segments; refused by name before the host reader is asked", async () => {
        for (const home of ["home/alice", "/home/al\0ice", "/home/../root"]) {
            installMocks(true);
            const reader = new FakeHostReader(snapshot());
            const docker = new (lib().DockerRuntime)("rootless", { connection, rootlessUser: "alice", rootlessHome: home }, { hostReader: reader });
            const { error } = await settled(docker.steps);
            assertConfigError(error, /^rootlessHome$/);
            assert.deepEqual(reader.asked, [], `${JSON.stringify(home)}: the host was not read`);
        }
        assert.equal(validateHomeFolder("/home/alice"), "/home/alice");
        assert.equal(rootlessDaemonJsonPath("alice", undefined), "/home/alice/.config/docker/daemon.json");
        assert.equal(rootlessDaemonJsonPath("alice", "/srv/alice"), "/srv/alice/.config/docker/daemon.json");
        for (const bad of ["home/alice", "~alice", "/home/../etc", "/home/alice/..", "/home//alice", "/home/alice/", "/home/al\0ice", "\0", "", "/home/a b"]) {
            assert.throws(
                () => validateHomeFolder(bad),
                (e: unknown) => (assertConfigError(e, /^rootlessHome$/), true),
                JSON.stringify(bad),
            );
        }
    });

    it("the SSH host reader refuses a bad watched path before it connects, naming the path", async () => {
        const reader = new SshHostReader(10);
        const unreachable = { host: "203.0.113.1", port: 1, user: "root" };
        for (const path of ["home/alice/.config/docker/daemon.json", "/home/al\0ice/x", "/home/../etc/shadow"]) {
            await assert.rejects(reader.snapshot(unreachable, [{ path }]), (e: unknown) => {
                assertConfigError(e, /^host file /);
                return true;
            });
        }
    });

    it("NUL is refused by name everywhere: runtimeName, connection fields (secrets not echoed), nested args", async () => {
        for (const runtime of ["ContainerdRuntime", "CrioRuntime", "DockerRuntime"] as const) {
            installMocks(true);
            const reader = new FakeHostReader(snapshot());
            const component = new (lib()[runtime])("r", { connection, runtimeName: "nv\0idia" }, { hostReader: reader });
            const { error } = await settled(component.steps);
            assertConfigError(error, /^runtimeName$/);
            assert.deepEqual(reader.asked, []);
        }
        installMocks(true);
        const reader = new FakeHostReader(snapshot());
        const secret = "-----BEGIN OPENSSH PRIVATE KEY-----\0hunter2";
        const docker = new (lib().DockerRuntime)("d", { connection: { host: "gpu.example", privateKey: secret } }, { hostReader: reader });
        const { error } = await settled(docker.steps);
        assertConfigError(error, /^connection\.privateKey$/);
        assert.equal(String((error as Error).message).includes("hunter2"), false, "the key is not echoed");
        assert.deepEqual(reader.asked, []);
        assert.throws(() => validateNoNul("a\0b", "args[1]"), /^GpuConfigError: args\[1\]: holds a NUL character/);
        assert.throws(
            () => validateNoNulDeep({ args: ["ok", "a\0b"] }, ""),
            (e: unknown) => (assertConfigError(e, /^args\[1\]$/), true),
        );
        assert.throws(
            () => validateNoNulDeep({ env: { FOO: "x\0" } }, ""),
            (e: unknown) => (assertConfigError(e, /^env\.FOO$/), true),
        );
        assert.throws(
            () => validateNoNulDeep({ env: { "F\0O": "x" } }, ""),
            (e: unknown) => (assertConfigError(e, /^env\.F\\0O \(a name\)$/), true),
        );
    });
});
