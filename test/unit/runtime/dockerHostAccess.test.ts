import { strict as assert } from "node:assert";
import { rootlessCliConfigPath } from "../../../sdk/runtime/dockerHostAccess";
import { dockerHostFindings } from "../../../sdk/runtime/dockerHost";
import { HostFacts } from "../../../sdk/host/hostFacts";
import { parseHostFacts } from "../../../sdk/host/hostFacts";
import { serverFacts } from "../../helpers/serverFacts";

describe("dockerHost reaches the node's daemon (issue 27)", () => {
    const facts = (user: { name: string; uid: number; groups?: string[] }): HostFacts => ({
        ...serverFacts(),
        user: { sudo: "passwordless" as const, ...user },
    });
    // The runtime engine's own check, looked up as GpuNode does; the rootless one reads alice's CLI config from the snapshot.
    const ALICE_CLI_CONFIG = "/home/alice/.docker/config.json";
    const check = (f: HostFacts, runtime: "docker" | "docker-rootless" | "containerd", rootlessUser?: string, cliConfig?: string) =>
        dockerHostFindings({ facts: f, files: { [ALICE_CLI_CONFIG]: cliConfig }, priorWrites: {}, containerdDump: undefined }, { runtime, rootlessUser });

    it("warns when a sudo user is not in the docker group, naming the fix; root and docker members are fine", () => {
        const [f] = check(facts({ name: "ops", uid: 1000, groups: ["ops", "sudo"] }), "docker");
        assert.equal(f.id, "docker-host-group");
        assert.match(f.message, /ops is not in the docker group/);
        assert.match(f.fix, /usermod -aG docker ops/);
        assert.deepEqual(check(facts({ name: "ops", uid: 1000, groups: ["ops", "docker"] }), "docker"), []);
        assert.deepEqual(check(facts({ name: "root", uid: 0, groups: ["root"] }), "docker"), []);
        assert.deepEqual(check(facts({ name: "ops", uid: 1000 }), "docker"), [], "unknown groups: nothing claimed");
    });

    it("warns when the rootless user has no context of their own, and not once `docker context use rootless` is set", () => {
        const none = check(facts({ name: "root", uid: 0 }), "docker-rootless", "alice");
        assert.equal(none[0].id, "docker-host-context");
        assert.match(none[0].fix, /docker context use rootless/);
        assert.equal(check(facts({ name: "root", uid: 0 }), "docker-rootless", "alice", '{"currentContext":"default"}').length, 1);
        assert.deepEqual(check(facts({ name: "root", uid: 0 }), "docker-rootless", "alice", '{"currentContext":"rootless"}'), []);
        assert.equal(rootlessCliConfigPath("/home/alice/.config/docker/daemon.json"), ALICE_CLI_CONFIG);
    });

    it("has nothing to say for a runtime with no Docker CLI (containerd), whatever the user's groups", () => {
        assert.deepEqual(check(facts({ name: "ops", uid: 1000, groups: ["ops"] }), "containerd"), []);
    });

    it("reads the SSH user's groups from the probe", () => {
        const probe = JSON.parse(JSON.stringify({ probeVersion: "1", user: "ops", uid: "1000", groups: "ops sudo docker" }));
        assert.deepEqual(parseHostFacts(JSON.stringify(probe)).user.groups, ["ops", "sudo", "docker"]);
    });
});
