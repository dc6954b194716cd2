import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { serverFacts } from "../../helpers/serverFacts";
import { FakeHostReader, installMocks, settle, valueOf } from "../../helpers/pulumiMocks";
import { NODE_FIELDS, nodeSpecOf } from "../../../sdk/node/nodeSpec";
import { DEFAULT_TOOLKIT_VERSION } from "../../../sdk/spec/defaults";

const lib = () => require("../../../index") as typeof import("../../../index");
const config = () => require("../../../program/config") as typeof import("../../../program/config");
const snapshot = () => ({
    facts: serverFacts(),
    files: { "/etc/nvidia-container-runtime/config.toml": undefined },
    priorWrites: {},
    containerdDump: undefined,
});

describe("the node spec: one set of fields and defaults for GpuNode, the stack config and the CLI", () => {
    it("gives an explicit undefined toolkit.version the default, as an absent one (GpuNode's spread let undefined win)", async () => {
        installMocks(true);
        const node = new (lib().GpuNode)(
            "n",
            { connection: { host: "gpu.example" }, toolkit: { version: undefined } },
            { hostReader: new FakeHostReader(snapshot()) },
        );
        assert.equal(await valueOf(node.toolkitVersion), DEFAULT_TOOLKIT_VERSION);
        await settle();
    });

    it("gives ContainerToolkit's version input that resolves to undefined the default", async () => {
        installMocks(true);
        const toolkit = new (lib().ContainerToolkit)(
            "ctk",
            { connection: { host: "gpu.example" }, version: pulumi.output(undefined) as unknown as pulumi.Input<string> },
            { hostReader: new FakeHostReader(snapshot()) },
        );
        assert.equal(await valueOf(toolkit.version), DEFAULT_TOOLKIT_VERSION);
        await settle();
    });

    it("the stack config accepts every GpuNode field (fabricManager, persistenced and migLayout were missing) and hands them to the plan", () => {
        const migLayout = { devices: [{ gpus: ["0"], profiles: { "3g.40gb": 2 } }], stopServices: ["dcgm"] };
        const [node] = config().parseNodes([{ host: "a", fabricManager: "skip", persistenced: false, migLayout }]);
        assert.ok(node.ok, JSON.stringify(node));
        const spec = config().nodeSpecOf(node.config);
        assert.deepEqual([spec.fabricManager, spec.persistenced, spec.migLayout], ["skip", false, migLayout]);
        for (const field of NODE_FIELDS) assert.ok(field in config().NodeConfigSchema.shape, `the stack config lacks ${field}`);
    });

    it("refuses a fabricManager the spec does not know, naming the field and the choices", () => {
        const [node] = config().parseNodes([{ host: "a", fabricManager: "sometimes" }]);
        assert.ok(!node.ok);
        assert.deepEqual(node.problems, [{ field: "nodes[0].fabricManager", problem: '"sometimes" is not supported', fix: "use one of: auto, install, skip" }]);
    });

    it("applies the defaults once: docker, the pinned toolkit, everything else left to the plan", () => {
        assert.deepEqual(nodeSpecOf({ runtime: undefined, toolkit: { mode: "cdi" } }), {
            runtime: "docker",
            driver: undefined,
            toolkit: { mode: "cdi", version: DEFAULT_TOOLKIT_VERSION },
            rootlessUser: undefined,
            rootlessHome: undefined,
            runtimeName: undefined,
            setAsDefault: undefined,
            enableCdi: undefined,
            fabricManager: undefined,
            persistenced: undefined,
            migLayout: undefined,
        });
    });
});
