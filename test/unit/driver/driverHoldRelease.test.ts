import { strict as assert } from "node:assert";
import { driverPlan } from "../../../sdk/driver/driverPlan";

/** What destroy does with a driver the plan installed and held on Ubuntu (README: "releases only its hold"). */
const ubuntu = (pin: { version?: string; branch?: string }) =>
    driverPlan({ distro: { id: "ubuntu", versionId: "24.04" }, kernelModules: "open", ...pin }).find((s) => s.name === "driver-packages")!;

describe("destroy releases the hold the driver's install set, and keeps the driver (issue 23)", () => {
    it("Ubuntu, an exact version: the install holds the package, and its undo unholds that package and removes nothing", () => {
        const step = ubuntu({ version: "580.95.05" });
        const held = /apt-mark hold "\$pkg"/.test(step.script) ? /^pkg=(\S+)$/m.exec(step.script)?.[1] : undefined;
        assert.ok(held !== undefined, "the install holds the package it installed");
        assert.match(step.undoScript ?? "", new RegExp(`apt-mark unhold ${held!.replace(/'/g, "")}`));
        assert.doesNotMatch(step.undoScript ?? "", /apt-get (remove|purge)/);
    });

    it("Ubuntu, a branch: nothing is held (the package name carries the branch), so nothing needs releasing", () => {
        const step = ubuntu({ branch: "580" });
        assert.doesNotMatch(step.script, /apt-mark hold/);
    });
});
