import { strict as assert } from "node:assert";
import { FakeHostReader, installMocks, settle, valueOf } from "../../helpers/pulumiMocks";
import { asServer, factsOf } from "../../fixtures/dataCentreHosts";
import { serverDocker } from "../../helpers/serverFacts";

const lib = () => require("../../../index") as typeof import("../../../index");
const snapshot = (fixture: string) => ({
    facts: {
        ...asServer(factsOf(fixture)),
        docker: serverDocker(),
    },
    files: { "/etc/docker/daemon.json": "{}\n", "/etc/nvidia-container-runtime/config.toml": undefined },
    priorWrites: {},
    containerdDump: undefined,
});

describe("GpuNode's data-centre args reach the plan (issue 17)", () => {
    it("an HGX H100 without Fabric Manager gets it pinned to the driver and started before the toolkit; fabricManager: skip leaves it out", async () => {
        installMocks(true);
        const { GpuNode, FabricManager } = lib();
        const auto = new GpuNode(
            "hgx",
            { connection: { host: "hgx-1" } },
            { hostReader: new FakeHostReader(snapshot("handmade-hgx-h100-no-fm.json")), planOnly: true },
        );
        const steps = await valueOf(auto.steps);
        assert.ok(steps.includes("fabric-manager-packages") && steps.includes("fabric-manager-service"), steps.join(", "));
        assert.ok(steps.indexOf("fabric-manager-service") < steps.indexOf("toolkit-packages"), "the fabric is up before the runtime steps");
        const skip = new GpuNode(
            "hgx2",
            { connection: { host: "hgx-1" }, fabricManager: FabricManager.Skip },
            { hostReader: new FakeHostReader(snapshot("handmade-hgx-h100-no-fm.json")), planOnly: true },
        );
        assert.equal(
            (await valueOf(skip.steps)).some((s) => s.startsWith("fabric-manager")),
            false,
        );
        await settle();
    });

    it("persistenced: false leaves nvidia-persistenced alone", async () => {
        installMocks(true);
        const { GpuNode } = lib();
        const on = new GpuNode(
            "p1",
            { connection: { host: "hgx-1" } },
            { hostReader: new FakeHostReader(snapshot("handmade-hgx-h100-fm.json")), planOnly: true },
        );
        const off = new GpuNode(
            "p2",
            { connection: { host: "hgx-1" }, persistenced: false },
            { hostReader: new FakeHostReader(snapshot("handmade-hgx-h100-fm.json")), planOnly: true },
        );
        assert.ok((await valueOf(on.steps)).includes("persistenced"));
        assert.equal((await valueOf(off.steps)).includes("persistenced"), false);
        await settle();
    });
});
