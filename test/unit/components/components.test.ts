import { serverFacts } from "../../helpers/serverFacts";
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parseHostFacts } from "../../../sdk/host/hostFacts";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { probeFixture } from "../../helpers/paths";
import { FakeHostReader, installMocks, settle, valueOf } from "../../helpers/pulumiMocks";

function snapshot(fixture = "h100-ubuntu2404-root.json", files: Record<string, string | undefined> = {}): HostSnapshot {
    const facts = fixture === "h100-ubuntu2404-root.json" ? serverFacts() : parseHostFacts(probeFixture(fixture));
    return { facts, files: { "/etc/nvidia-container-runtime/config.toml": undefined, ...files }, priorWrites: {}, containerdDump: undefined };
}

const lib = () => require("../../../index") as typeof import("../../../index");
const connection = { host: "gpu.example" };

describe("components (pulumi mocks)", () => {
    it("importing the library creates no resources", () => {
        const recorded = installMocks(true);
        lib();
        assert.deepEqual(recorded, []);
    });

    it("ContainerToolkit: four chained steps, typed nvidia-gpu:index:ContainerToolkit", async () => {
        const recorded = installMocks(true);
        const toolkit = new (lib().ContainerToolkit)("ctk", { connection, version: "1.19.0-1" }, { hostReader: new FakeHostReader(snapshot()) });
        assert.deepEqual(await valueOf(toolkit.steps), ["toolkit-prerequisites", "toolkit-key", "toolkit-repo", "toolkit-packages"]);
        await settle();
        assert.equal(recorded[0].type, "nvidia-gpu:index:ContainerToolkit");
        const packages = recorded.find((r) => r.name === "ctk-toolkit-packages")!;
        assert.match(packages.inputs.stdin, /nvidia-container-toolkit=1\.19\.0-1/);
        assert.match(packages.inputs.delete, /apt-get .*purge -y -q nvidia-container-toolkit/);
    });

    it("NvidiaDriver installs nothing on WSL2 and pins the branch elsewhere", async () => {
        let recorded = installMocks(true);
        const wsl = new (lib().NvidiaDriver)(
            "drv-wsl",
            { connection, branch: "580" },
            { hostReader: new FakeHostReader(snapshot("handmade-wsl2-snap-docker.json")) },
        );
        assert.deepEqual(await valueOf(wsl.steps), []);
        await settle();
        assert.equal(recorded.filter((r) => r.type === "command:remote:Command").length, 0);

        // The verify step's stdout exists only after it ran: an update, not a preview.
        recorded = installMocks(false, (name) =>
            name.endsWith("driver-verify") ? '{"loaded":"580.159.04","library":"580.65.06","state":"reboot-required"}\n' : "",
        );
        // A packaged driver (Ubuntu's nvidia-driver-580-server-open): the pin plans the packages.
        const driver = new (lib().NvidiaDriver)(
            "drv",
            { connection, branch: "580" },
            { hostReader: new FakeHostReader(snapshot("handmade-hgx-h100-fm.json")) },
        );
        assert.deepEqual(await valueOf(driver.steps), ["driver-packages", "driver-no-unattended-upgrades", "driver-verify"]);
        assert.equal(await valueOf(driver.rebootPending), true);
        await settle();
        assert.equal(recorded.find((r) => r.name === "drv-driver-packages")!.inputs.stdin.includes("nvidia-driver-580-server-open"), true);
    });

    it("DockerRuntime for a rootless user runs as that user, gets GPUs through CDI and leaves the host-wide no-cgroups alone", async () => {
        const recorded = installMocks(true);
        const docker = new (lib().DockerRuntime)(
            "rootless",
            { connection, rootlessUser: "alice" },
            { hostReader: new FakeHostReader(snapshot("h100-ubuntu2404-root.json", { "/home/alice/.config/docker/daemon.json": '{"bridge": "none"}\n' })) },
        );
        assert.deepEqual(await valueOf(docker.steps), ["docker-rootless-daemon-json", "docker-rootless-restart", "cdi-spec"]);
        assert.deepEqual(await valueOf(docker.files), ["/home/alice/.config/docker/daemon.json"]);
        await settle();
        const write = recorded.find((r) => r.name === "rootless-docker-rootless-daemon-json")!;
        assert.match(write.inputs.create, /^runuser -u alice -- sh -c /);
        const restart = recorded.find((r) => r.name === "rootless-docker-rootless-restart")!;
        assert.match(restart.inputs.stdin, /systemctl --user restart docker/);
        assert.equal(
            recorded.some((r) => /no-cgroups/.test(r.inputs.stdin ?? "")),
            false,
        );
    });

    it("ContainerdRuntime writes config.toml and the drop-in, then restarts and verifies", async () => {
        installMocks(true);
        const containerd = new (lib().ContainerdRuntime)(
            "ctrd",
            { connection, setAsDefault: true },
            { hostReader: new FakeHostReader(snapshot("h100-ubuntu2404-root.json", { "/etc/containerd/config.toml": "version = 2\n# mine\n" })) },
        );
        assert.deepEqual(await valueOf(containerd.steps), ["containerd-config", "containerd-drop-in", "containerd-restart", "verify-runtimes"]);
        assert.deepEqual(await valueOf(containerd.files), ["/etc/containerd/config.toml", "/etc/containerd/conf.d/99-nvidia.toml"]);
    });

    it("CdiSpec reports the device names nvidia-ctk cdi list printed", async () => {
        installMocks(
            false,
            () =>
                "changed /var/run/cdi/nvidia.yaml\ncdi-device nvidia.com/gpu=0\ncdi-device nvidia.com/gpu=GPU-90b19bec-097c-6e10-2830-1005b2cfa1ed\ncdi-device nvidia.com/gpu=all\n",
        );
        const cdi = new (lib().CdiSpec)("cdi", { connection }, { hostReader: new FakeHostReader(snapshot()) });
        assert.deepEqual(await valueOf(cdi.devices), ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-90b19bec-097c-6e10-2830-1005b2cfa1ed", "nvidia.com/gpu=all"]);
    });

    it("the root program creates one GpuNode per configured node, side by side", async () => {
        const recorded = installMocks(true);
        pulumi.runtime.setAllConfig({
            "project:nodes": JSON.stringify([
                { name: "a", host: "a.example", runtime: "docker" },
                { name: "b", host: "b.example", runtime: "containerd", toolkit: { version: "1.19.0-1" } },
            ]),
        });
        const outputs = lib().provisionNodesFromConfig({ hostReader: new FakeHostReader(snapshot()) });
        assert.deepEqual(Object.keys(outputs), ["a", "b"]);
        const b = (await valueOf(outputs.b)) as { toolkitVersion: string; runtimes: string[] };
        assert.equal(b.toolkitVersion, "1.19.0-1");
        assert.deepEqual(b.runtimes, ["containerd"]);
        await settle();
        assert.deepEqual(
            recorded.filter((r) => r.type === "nvidia-gpu:index:GpuNode").map((r) => r.name),
            ["a", "b"],
        );
    });

    it("the root program names the config field at fault", () => {
        installMocks(true);
        pulumi.runtime.setAllConfig({ "project:nodes": JSON.stringify([{ host: "a", runtime: "nerdctl" }]) });
        assert.throws(
            () => lib().provisionNodesFromConfig(),
            /config nodes\[0\]\.runtime: "nerdctl" is not supported — use one of: docker, docker-rootless, containerd, crio, cdi, podman/,
        );
    });
});
