import { strict as assert } from "node:assert";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { runtimePlan } from "../../../sdk/node/nodePlan";
import { serverFacts } from "../../helpers/serverFacts";

/**
 * setAsDefault's check of the loaded default lives in containerd's verify alone (a later drop-in can undo the default
 * there). The other engines' verify steps must keep their inputs: a `default=` line their checks never read would
 * change every such host's verify-runtimes inputs on upgrade, an update that repairs nothing.
 */
const snapshot = (): HostSnapshot => ({ facts: serverFacts(), files: {}, priorWrites: {}, containerdDump: undefined });
const verifyScript = (runtime: "docker" | "crio" | "containerd") =>
    runtimePlan(snapshot(), { runtime, setAsDefault: true }).steps.find((s) => s.name === "verify-runtimes")!.script;

describe("verify-runtimes with setAsDefault: only containerd's check reads the default", () => {
    it("containerd's script names the default it checks", () => {
        assert.match(verifyScript("containerd"), /^default=nvidia$/m);
    });

    for (const runtime of ["docker", "crio"] as const) {
        it(`${runtime}'s script has no default line`, () => {
            assert.doesNotMatch(verifyScript(runtime), /default=/);
        });
    }
});
