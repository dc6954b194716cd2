import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { serverFacts } from "../../helpers/serverFacts";
import { FakeHostReader, installMocks, settle } from "../../helpers/pulumiMocks";

/**
 * A Podman workload's restart policy at preview (issue 27): Podman has no daemon to restart containers at boot, and
 * podman-restart.service starts only restart-policy=always ones, enabled on Debian 12 and disabled on Debian 13 (the
 * fleet's trixie node: test/e2e/podmanWorkloads.e2e.ts reboots it).
 */
const lib = () => require("../../../index") as typeof import("../../../index");
const IMAGE = "nvidia/cuda:12.4.1-base-ubuntu22.04";
const LINK = "/etc/systemd/system/default.target.wants/podman-restart.service";
const UNIT = "[Unit]\nDescription=Podman Start All Containers With Restart Policy Set To Always\n";

describe("DockerGpuContainer on Podman: the preview warns when the container will not come back after a reboot", () => {
    const realWarn = pulumi.log.warn;
    const realInfo = pulumi.log.info;
    let warned: string[];
    beforeEach(() => {
        warned = [];
        (pulumi.log as any).warn = (m: string) => (warned.push(m), Promise.resolve());
        (pulumi.log as any).info = () => Promise.resolve();
    });
    afterEach(() => {
        (pulumi.log as any).warn = realWarn;
        (pulumi.log as any).info = realInfo;
    });

    async function preview(args: Record<string, unknown>, files: Record<string, string | undefined>): Promise<string[]> {
        installMocks(true);
        const facts = serverFacts();
        facts.podmanVersion = "5.4.2";
        facts.cdiSpecs = ["/var/run/cdi/nvidia.yaml"];
        const snap: HostSnapshot = {
            facts,
            files: { "/var/run/cdi/nvidia.yaml": "cdiVersion: 0.7.0\nkind: nvidia.com/gpu\n", ...files },
            priorWrites: {},
            containerdDump: undefined,
        };
        new (lib().DockerGpuContainer)("pod", { connection: { host: "gpu-1" }, image: IMAGE, engine: lib().ContainerEngine.Podman, ...args } as any, {
            hostReader: new FakeHostReader(snap),
        });
        await settle(200);
        return warned.filter((m) => m.startsWith("pod: ") && /podman-restart/.test(m));
    }

    it("the default restart (unless-stopped): podman-restart.service starts only restart-policy=always containers", async () => {
        const w = await preview({}, { [LINK]: UNIT });
        assert.equal(w.length, 1, warned.join("\n"));
        assert.match(w[0], /container pod: restart unless-stopped does not bring it back when the host boots/);
        assert.match(w[0], /set restart: always, and enable the unit \(systemctl enable podman-restart\.service\)/);
    });

    it("restart always where podman-restart.service is not enabled (Debian 13) or is masked", async () => {
        const off = await preview({ restart: "always" }, { [LINK]: undefined });
        assert.equal(off.length, 1, warned.join("\n"));
        assert.match(off[0], /podman-restart\.service is not enabled on the host/);
        warned = [];
        const masked = await preview({ restart: "always" }, { [LINK]: UNIT, "/etc/systemd/system/podman-restart.service": "" });
        assert.match(masked[0] ?? warned.join("\n"), /podman-restart\.service is masked on the host .* systemctl unmask podman-restart\.service/);
    });

    it("says nothing for restart always with the unit enabled (Debian 12), or for restart no", async () => {
        assert.deepEqual(await preview({ restart: "always" }, { [LINK]: UNIT }), []);
        assert.deepEqual(await preview({ restart: "no" }, {}), []);
    });
});
