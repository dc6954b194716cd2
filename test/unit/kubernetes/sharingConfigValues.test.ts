import { strict as assert } from "node:assert";
import YAML from "yaml";
import { SharingConfig, SharingStrategy, sharingConfigText } from "../../../sdk/kubernetes/manifests";

describe("device plugin sharing config: values checked where they become YAML", () => {
    it("refuses a replicas that is not a whole number of 2 or more, so no string adds keys to config.yaml", () => {
        const injected = { strategy: SharingStrategy.TimeSlicing, replicas: "1\n        devices: [0]" } as unknown as SharingConfig;
        assert.throws(() => sharingConfigText(injected), /sharing\.replicas: "1\\n {8}devices: \[0\]" is not a whole number of 2 or more/);
        assert.throws(() => sharingConfigText({ strategy: SharingStrategy.Mps, replicas: 1 }), /sharing\.replicas: 1 is not/);
        assert.throws(() => sharingConfigText({ strategy: SharingStrategy.Mps, replicas: 2.5 }), /sharing\.replicas: 2\.5 is not/);
    });

    it("refuses a failRequestsGreaterThanOne that is not a boolean, and an unknown strategy", () => {
        assert.throws(
            () => sharingConfigText({ strategy: SharingStrategy.TimeSlicing, replicas: 2, failRequestsGreaterThanOne: "false\n  x: 1" as unknown as boolean }),
            /sharing\.failRequestsGreaterThanOne/,
        );
        assert.throws(
            () => sharingConfigText({ strategy: "timeslicing" as SharingStrategy, replicas: 2 }),
            /sharing\.strategy: "timeslicing" is not supported/,
        );
    });

    it("strategy none writes no sharing section (it wrote time-slicing)", () => {
        const text = sharingConfigText({ strategy: SharingStrategy.None, replicas: 4 });
        assert.deepEqual(YAML.parse(text), { version: "v1" });
    });
});
