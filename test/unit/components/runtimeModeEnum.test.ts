import { strict as assert } from "node:assert";
import { RuntimeMode } from "../../../components/enums";
import { RUNTIME_MODES } from "../../../sdk/render/toolkitConfig";

/** The schema's enum (components) and the list the sdk validates against are two lists: they must stay one set. */
describe("toolkit.mode: the RuntimeMode enum and the sdk's RUNTIME_MODES", () => {
    it("hold the same modes", () => {
        assert.deepEqual(Object.values(RuntimeMode).sort(), [...RUNTIME_MODES].sort());
    });
});
