import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { HostFacts } from "../../../sdk/host/hostFacts";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { serverDocker, serverFacts } from "../../helpers/serverFacts";
import { FakeHostReader, Recorded, installMocks, settle } from "../../helpers/pulumiMocks";

/** DockerGpuContainer's run options, secret env and rootless daemon through the component, under Pulumi's mocks. */
const lib = () => require("../../../index") as typeof import("../../../index");
const IMAGE = "nvidia/cuda:12.4.1-base-ubuntu22.04";
const SECRET = "hf_pretend-token-9f8e7d";

function snapshot(user: HostFacts["user"] = { name: "root", uid: 0, sudo: "none" }): HostSnapshot {
    const facts = serverFacts();
    facts.docker = serverDocker();
    facts.user = user;
    return { facts, files: { "/etc/docker/daemon.json": "{}\n" }, priorWrites: {}, containerdDump: undefined };
}

/** Every string in a recorded input, secrets included (Pulumi's wire form keeps the value under `value`). */
function flatten(value: unknown): string {
    return JSON.stringify(value);
}

describe("DockerGpuContainer: run options, secret env, rootless daemon", () => {
    const realInfo = pulumi.log.info;
    let logged: string[];
    beforeEach(() => {
        logged = [];
        (pulumi.log as any).info = (m: string) => (logged.push(m), Promise.resolve());
    });
    afterEach(() => ((pulumi.log as any).info = realInfo));

    async function container(args: Record<string, unknown>, user?: Parameters<typeof snapshot>[0]): Promise<Recorded> {
        const recorded = installMocks(true);
        new (lib().DockerGpuContainer)("svc", { connection: { host: "gpu-1" }, image: IMAGE, ...args } as any, {
            hostReader: new FakeHostReader(snapshot(user)),
        });
        await settle(200);
        return recorded.find((r) => r.type === "command:remote:Command")!;
    }

    it("shows the docker run line in the preview, options before the image", async () => {
        const cmd = await container({ ports: [{ internal: 8888, external: 8888 }], ipcMode: "shareable", shmSize: 8192, args: ["sleep", "1"] });
        assert.ok(cmd, "a command was registered");
        const line = logged.find((m) => m.startsWith("svc: docker run"));
        assert.ok(line, logged.join("\n"));
        assert.match(line!, /--publish 8888:8888\/tcp --ipc shareable --shm-size 8192m nvidia\/cuda:12\.4\.1-base-ubuntu22\.04 sleep 1/);
        assert.match(line!, /note: no driver capabilities given: the image's own NVIDIA_DRIVER_CAPABILITIES applies/);
    });

    it("keeps secret env values out of the script, the preview and clear-text state: only in secret stdin", async () => {
        const cmd = await container({ secretEnv: { HF_TOKEN: pulumi.secret(SECRET) }, env: { MODE: "serve" } });
        assert.ok(!flatten(cmd.inputs.create).includes(SECRET), "not in the command line");
        assert.ok(!flatten(cmd.inputs.delete).includes(SECRET), "not in the undo");
        assert.ok(!logged.some((m) => m.includes(SECRET)), "not in any log line");
        assert.ok(
            logged.some((m) => m.includes("--env-file <secret: HF_TOKEN>")),
            logged.join("\n"),
        );
        // Pulumi's wire form of a secret: the signature key marks it, so state holds it encrypted only.
        assert.equal(cmd.inputs.stdin["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", "stdin is a secret");
        assert.ok(cmd.inputs.stdin.value.startsWith("secret_env_file=$(mktemp)"), "the preamble comes before the script");
        assert.ok(cmd.inputs.stdin.value.includes(`HF_TOKEN=${SECRET}\n`));
        // Everything else the engine stores for this command, outside the secret stdin, is free of the value.
        const { stdin: _stdin, ...rest } = cmd.inputs;
        assert.ok(!flatten(rest).includes(SECRET));
    });

    it("names the field of a bad option", async () => {
        const recorded = installMocks(true);
        const c = new (lib().DockerGpuContainer)(
            "bad",
            { connection: { host: "gpu-1" }, image: IMAGE, ports: [{ internal: 80, external: 0 }] },
            { hostReader: new FakeHostReader(snapshot()) },
        );
        const error = await new Promise((resolve) => (c.compatibility as any).promise().then(() => resolve(undefined), resolve));
        assert.match(String(error), /ports\[0\]\.external: 0 is not a port/);
        assert.equal(recorded.filter((r) => r.type === "command:remote:Command").length, 0);
    });

    it("refuses a secret value --env-file cannot carry by its name, never echoing it", async () => {
        installMocks(true);
        const c = new (lib().DockerGpuContainer)(
            "badsecret",
            { connection: { host: "gpu-1" }, image: IMAGE, secretEnv: { HF_TOKEN: pulumi.secret("line1\nhunter2") } },
            { hostReader: new FakeHostReader(snapshot()) },
        );
        const error = await new Promise((resolve) => (c.compatibility as any).promise().then(() => resolve(undefined), resolve));
        assert.match(String(error), /secretEnv\.HF_TOKEN: holds a line break or NUL \(the value is not shown\)/);
        assert.ok(!String(error).includes("hunter2"));
    });

    it("runs docker as the rootless user against their daemon when the node is docker-rootless (dockerTarget)", async () => {
        const recorded = installMocks(true);
        const node = new (lib().GpuNode)(
            "ws",
            { connection: { host: "ws" }, runtime: lib().ContainerRuntime.DockerRootless, rootlessUser: "alice" },
            { hostReader: new FakeHostReader(snapshot()), planOnly: true },
        );
        new (lib().DockerGpuContainer)("svc", { ...node.dockerTarget(), image: IMAGE }, { hostReader: new FakeHostReader(snapshot()) });
        await settle(300);
        const cmd = recorded.find((r) => r.type === "command:remote:Command" && r.name === "svc-container-svc")!;
        assert.ok(cmd, recorded.map((r) => r.name).join(", "));
        assert.match(cmd.inputs.create, /^runuser -u alice -- /);
        assert.match(cmd.inputs.stdin, /DOCKER_HOST="unix:\/\/\/run\/user\/\$\(id -u\)\/docker\.sock"/);
    });

    it("Podman: the podman run line with CDI devices, and preview warns when the host's CDI spec is a format its Podman cannot read", async () => {
        const warned: string[] = [];
        const realWarn = pulumi.log.warn;
        (pulumi.log as any).warn = (m: string) => (warned.push(m), Promise.resolve());
        try {
            const recorded = installMocks(true);
            const snap = snapshot();
            snap.facts.podmanVersion = "4.3.1";
            snap.facts.cdiSpecs = ["/var/run/cdi/nvidia.yaml"];
            snap.files["/var/run/cdi/nvidia.yaml"] = "cdiVersion: 0.7.0\nkind: nvidia.com/gpu\n";
            const reader = new FakeHostReader(snap);
            new (lib().DockerGpuContainer)(
                "pod",
                { connection: { host: "gpu-1" }, image: IMAGE, engine: lib().ContainerEngine.Podman, devices: ["0"] },
                { hostReader: reader },
            );
            await settle(200);
            assert.ok(recorded.find((r) => r.type === "command:remote:Command"));
            assert.ok(
                logged.some((m) => m.startsWith("pod: podman run --detach --name pod --restart unless-stopped --device nvidia.com/gpu=0 ")),
                logged.join("\n"),
            );
            assert.deepEqual(
                reader.asked[0].map((f) => f.path),
                [
                    "/etc/cdi/nvidia.yaml",
                    "/var/run/cdi/nvidia.yaml",
                    "/etc/systemd/system/default.target.wants/podman-restart.service",
                    "/etc/systemd/system/podman-restart.service",
                ],
            );
            assert.ok(
                warned.some((m) => /pod: \/var\/run\/cdi\/nvidia\.yaml is CDI spec format 0\.7\.0, which podman 4\.3\.1 cannot read/.test(m)),
                warned.join("\n"),
            );
        } finally {
            (pulumi.log as any).warn = realWarn;
        }
    });

    it("preset opencl: the preview warns when the host lacks the driver's OpenCL ICD or libnvidia-opencl", async () => {
        const warned: string[] = [];
        const realWarn = pulumi.log.warn;
        (pulumi.log as any).warn = (m: string) => (warned.push(m), Promise.resolve());
        try {
            installMocks(true);
            const snap = snapshot();
            snap.facts.graphics.opencl = { icd: false, library: true };
            new (lib().DockerGpuContainer)("ocl", { connection: { host: "gpu-1" }, image: IMAGE, preset: "opencl", gpuSelection: "runtime" } as any, {
                hostReader: new FakeHostReader(snap),
            });
            await settle(200);
            assert.ok(
                warned.some((m) =>
                    /^ocl: the host lacks the driver's OpenCL parts \(ICD \/etc\/OpenCL\/vendors\/nvidia\.icd: no, libnvidia-opencl: yes\)/.test(m),
                ),
                warned.join("\n"),
            );
        } finally {
            (pulumi.log as any).warn = realWarn;
        }
    });

    it("a container on a podman node (dockerTarget) runs through podman with CDI devices", async () => {
        const recorded = installMocks(true);
        const snap = snapshot();
        snap.facts.podmanVersion = "5.4.2";
        const node = new (lib().GpuNode)(
            "pm",
            { connection: { host: "pm" }, runtime: lib().ContainerRuntime.Podman },
            { hostReader: new FakeHostReader(snap), planOnly: true },
        );
        new (lib().DockerGpuContainer)("svc", { ...node.dockerTarget(), image: IMAGE, devices: ["0"] }, { hostReader: new FakeHostReader(snap) });
        await settle(300);
        const cmd = recorded.find((r) => r.type === "command:remote:Command" && r.name === "svc-container-svc")!;
        assert.ok(cmd, recorded.map((r) => r.name).join(", "));
        assert.match(cmd.inputs.stdin, /podman run --detach --name svc --restart unless-stopped --device nvidia\.com\/gpu=0 /);
        assert.ok(
            logged.some((m) => m.startsWith("svc: podman run")),
            logged.join("\n"),
        );
    });
});
