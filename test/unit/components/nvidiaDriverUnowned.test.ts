import { strict as assert } from "node:assert";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { FakeHostReader, installMocks, settle, valueOf } from "../../helpers/pulumiMocks";
import { serverFacts } from "../../helpers/serverFacts";

const lib = () => require("../../../index") as typeof import("../../../index");
/** The recorded H100: driver 580.159.04 under /usr/local/nvidia, owned by no package. */
const h100 = (): HostSnapshot => ({ facts: serverFacts(), files: {}, priorWrites: {}, containerdDump: undefined });
const rejection = (output: unknown): Promise<string> =>
    (output as { promise(): Promise<unknown> }).promise().then(
        () => "ok",
        (e: Error) => e.message,
    );

describe("NvidiaDriver on a driver no package owns (issue 23)", () => {
    it("keeps it where it satisfies the pin: no package step, no reboot step", async () => {
        const recorded = installMocks(true);
        const connection = { host: "gpu.example" };
        const kept = new (lib().NvidiaDriver)("kept", { connection, version: "580.159.04", reboot: true }, { hostReader: new FakeHostReader(h100()) });
        assert.deepEqual(await valueOf(kept.steps), ["driver-no-unattended-upgrades", "driver-verify"]);
        await settle();
        assert.ok(!recorded.some((r) => r.name.startsWith("kept-driver-packages") || r.name.startsWith("kept-driver-reboot")));
    });

    it("refuses a pin it does not satisfy, naming driver.version and the way out", async () => {
        installMocks(true);
        const connection = { host: "gpu.example" };
        const refused = new (lib().NvidiaDriver)("refused", { connection, version: "570.195.03" }, { hostReader: new FakeHostReader(h100()) });
        const message = await rejection(refused.steps);
        assert.match(message, /driver\.version: 570\.195\.03: the host's driver 580\.159\.04 \(no package owns it\) is not version 570\.195\.03/);
        assert.match(message, /pin the loaded version: driver\.version 580\.159\.04/);
    });
});
