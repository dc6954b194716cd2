import { strict as assert } from "node:assert";
import { GpuConfigError } from "../../../sdk/errors";
import { MigStrategy, migStrategyConflict } from "../../../sdk/kubernetes/migStrategy";
import { MigLayoutSpec } from "../../../sdk/datacentre/migLayout";

/** H200 profiles (nvidia-smi mig -lgip on an H200 141GB). */
const all7 = (profile = "1g.18gb"): MigLayoutSpec => ({ devices: [{ profiles: { [profile]: 7 } }] });
const disabled: MigLayoutSpec = { devices: [{ enabled: false }] };

function conflict(strategy: string, layouts: MigLayoutSpec[]): GpuConfigError {
    const error = migStrategyConflict(strategy, layouts);
    assert.ok(error instanceof GpuConfigError, `expected a conflict for ${strategy}`);
    return error;
}

describe("MIG strategy against the nodes' MIG layouts", () => {
    it("none: accepts no layouts and layouts that leave MIG off", () => {
        assert.equal(migStrategyConflict(MigStrategy.None, []), undefined);
        assert.equal(migStrategyConflict(MigStrategy.None, [disabled, { devices: [{ gpus: ["0"] }] }]), undefined);
    });

    it("none: refuses a layout that enables MIG, naming the strategy, the entry, its GPUs and the fix", () => {
        const e = conflict(MigStrategy.None, [
            disabled,
            {
                devices: [
                    { gpus: ["2"], enabled: false },
                    { gpus: ["0", "1"], profiles: { "3g.71gb": 2 } },
                ],
            },
        ]);
        assert.equal(e.field, "migStrategy");
        assert.equal(
            e.message,
            'migStrategy: is "none", which exposes no MIG device, but migLayouts[1].devices[1] enables MIG on GPUs 0, 1 (3g.71gb), so those GPUs would offer nothing to pods' +
                ' — set migStrategy to "single" (one profile on every GPU of a node) or "mixed" (any layout), or set migLayouts[1].devices[1].enabled to false',
        );
        // MIG on without instances is MIG on all the same.
        assert.match(conflict(MigStrategy.None, [{ devices: [{ enabled: true }] }]).message, /enables MIG on every GPU no other entry names \(no instances\)/);
    });

    it("single: accepts one profile on every GPU of each node, different profiles on different nodes", () => {
        assert.equal(migStrategyConflict(MigStrategy.Single, [all7("1g.18gb"), all7("3g.71gb"), disabled]), undefined);
        const split: MigLayoutSpec = {
            devices: [
                { gpus: ["0"], profiles: { "2g.35gb": 3 } },
                { gpus: ["1"], profiles: { "2g.35gb": 1, "1g.18gb": 0 } },
            ],
        };
        assert.equal(migStrategyConflict(MigStrategy.Single, [split]), undefined);
    });

    it("single: refuses two profiles on one GPU", () => {
        const e = conflict(MigStrategy.Single, [all7(), { devices: [{ gpus: ["0"], profiles: { "3g.71gb": 1, "1g.18gb": 4 } }] }]);
        assert.equal(e.field, "migLayouts[1].devices[0].profiles");
        assert.equal(
            e.message,
            'migLayouts[1].devices[0].profiles: has 3g.71gb + 1g.18gb on GPU 0, but migStrategy "single" needs every MIG instance of a node to use one profile' +
                ' — keep one profile (e.g. only 3g.71gb), or set migStrategy to "mixed"',
        );
    });

    it("single: refuses two profiles on two GPUs of one node", () => {
        const e = conflict(MigStrategy.Single, [{ devices: [{ gpus: ["0"], profiles: { "1g.18gb": 7 } }, { profiles: { "3g.71gb": 2 } }] }]);
        assert.equal(
            e.message,
            'migLayouts[0].devices[1].profiles: is 3g.71gb on every GPU no other entry names, but migLayouts[0].devices[0] is 1g.18gb; migStrategy "single" needs every MIG instance of a node to use one profile' +
                ' — use 1g.18gb on every GPU of the node, or set migStrategy to "mixed"',
        );
    });

    it("single: refuses MIG on some GPUs of a node and off on others", () => {
        const e = conflict(MigStrategy.Single, [{ devices: [{ gpus: ["0", "1"], profiles: { "1g.18gb": 7 } }, { gpus: ["2"] }] }]);
        assert.equal(e.field, "migLayouts[0].devices[1].enabled");
        assert.equal(
            e.message,
            'migLayouts[0].devices[1].enabled: leaves MIG off on GPU 2 while migLayouts[0].devices[0] enables it; migStrategy "single" needs MIG on every GPU of a node or on none (GFD would label the node MIG-INVALID)' +
                ' — enable MIG with 1g.18gb there too, or set migStrategy to "mixed"',
        );
    });

    it("single: refuses a MIG-enabled GPU without instances", () => {
        const e = conflict(MigStrategy.Single, [
            {
                devices: [
                    { gpus: ["0"], profiles: { "1g.18gb": 7 } },
                    { gpus: ["1"], enabled: true },
                ],
            },
        ]);
        assert.equal(e.field, "migLayouts[0].devices[1].profiles");
        assert.match(e.message, /enables MIG on GPU 1 with no instances; .* — give it one profile, e\.g\. \{ "1g\.18gb": 7 \}, or set migStrategy to "mixed"$/);
        // A profile counted 0 is no instance.
        assert.equal(conflict(MigStrategy.Single, [{ devices: [{ profiles: { "1g.18gb": 0 } }] }]).field, "migLayouts[0].devices[0].profiles");
    });

    it("mixed: accepts any layout", () => {
        const any: MigLayoutSpec = { devices: [{ gpus: ["0"], profiles: { "3g.71gb": 1, "1g.18gb": 4 } }, { gpus: ["1"], enabled: true }, { gpus: ["2"] }] };
        assert.equal(migStrategyConflict(MigStrategy.Mixed, [any, all7()]), undefined);
    });

    it("refuses a strategy NVIDIA does not have, and a layout that is not one", () => {
        assert.equal(conflict("Single", []).message, 'migStrategy: "Single" is not supported — use one of: none, single, mixed');
        assert.equal(conflict(MigStrategy.Mixed, [{} as MigLayoutSpec]).field, "migLayouts[0].devices");
    });
});
