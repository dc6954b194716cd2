import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { FakeHostReader, installMocks, settle } from "../../helpers/pulumiMocks";
import { appliedContainerdSnapshot, realContainerd } from "../../helpers/realContainerd";

/**
 * What a component's plan finds on the host reaches the preview at its severity, for every component: the warnings of
 * GpuNode's and the runtime components' plans were returned as outputs only, so `pulumi preview` never showed them
 * (the containerd-default-overridden warning among them). The host: the plan's containerd files with a later drop-in
 * that makes runc the default, as Debian's real containerd 2.1 loads them (test/tools/fetch-containerd.sh).
 */
const lib = () => require("../../../index") as typeof import("../../../index");
const RUNC_DEFAULT = (ours: string) => ours.replace('default_runtime_name = "nvidia"', 'default_runtime_name = "runc"');

describe("findings in the preview: every component shows its plan's findings at their severity", function () {
    this.timeout(30000);
    const realWarn = pulumi.log.warn;
    const realInfo = pulumi.log.info;
    let warned: string[];
    let dir: string;
    let snapshot: HostSnapshot;
    beforeEach(() => {
        warned = [];
        (pulumi.log as any).warn = (m: string) => (warned.push(m), Promise.resolve());
        (pulumi.log as any).info = () => Promise.resolve();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "preview-findings-"));
        snapshot = appliedContainerdSnapshot(dir, realContainerd("2.1"), RUNC_DEFAULT);
    });
    afterEach(() => {
        (pulumi.log as any).warn = realWarn;
        (pulumi.log as any).info = realInfo;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const overridden = () => warned.filter((m) => /makes runc the default runtime, though .*99-nvidia\.toml sets nvidia/.test(m));

    it("ContainerdRuntime warns once, naming itself, the cause and the fix", async () => {
        installMocks(true);
        new (lib().ContainerdRuntime)("ctr", { connection: { host: "gpu-1" }, setAsDefault: true }, { hostReader: new FakeHostReader(snapshot) });
        await settle(200);
        assert.equal(overridden().length, 1, warned.join("\n"));
        assert.match(overridden()[0], /^ctr: .* — /);
    });

    it("GpuNode (runtime containerd) warns once too", async () => {
        installMocks(true);
        const { GpuNode, ContainerRuntime } = lib();
        new GpuNode(
            "gpu-1",
            { connection: { host: "gpu-1" }, runtime: ContainerRuntime.Containerd, setAsDefault: true },
            { hostReader: new FakeHostReader(snapshot) },
        );
        await settle(200);
        assert.equal(overridden().length, 1, warned.join("\n"));
        assert.match(overridden()[0], /^gpu-1: /);
    });
});
