import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { plainInputs } from "../../../provider";

/** What the Output keeps besides its value (internal to the SDK). */
const internals = (o: unknown) => o as { isSecret: Promise<boolean>; promise(): Promise<unknown> };

describe("the component provider's inputs (issue 15)", () => {
    it("turns an omitted input, which the provider server hands over as an Output of undefined, into undefined", async () => {
        const args = (await plainInputs({ runtime: pulumi.output(undefined), driver: undefined, host: "gpu-1" })) as Record<string, unknown>;
        assert.deepEqual(args, { host: "gpu-1" });
    });

    it("opens a secret object field by field, each field still secret, its omitted fields undefined", async () => {
        const connection = pulumi.secret({ host: "gpu-1", port: undefined as number | undefined, privateKey: "KEY" });
        const args = (await plainInputs({ connection })) as { connection: Record<string, unknown> };
        assert.deepEqual(Object.keys(args.connection).sort(), ["host", "privateKey"]);
        assert.equal(await internals(args.connection.privateKey).isSecret, true);
        assert.equal(await internals(args.connection.privateKey).promise(), "KEY");
    });

    it("leaves plain values plain, so defaults apply (`port ?? 22`)", async () => {
        const args = (await plainInputs({ connection: pulumi.output({ host: "gpu-1", user: "root" }) })) as { connection: Record<string, unknown> };
        assert.deepEqual(args, { connection: { host: "gpu-1", user: "root" } });
    });
});
