import { strict as assert } from "node:assert";
import { dockerHostFindings, rootlessCliConfigPath } from "../../../sdk/runtime/dockerHostAccess";
import { parseHostFacts } from "../../../sdk/host/hostFacts";
import { serverFacts } from "../../helpers/serverFacts";

describe("dockerHost reaches the node's daemon (issue 27)", () => {
    const facts = (user: { name: string; uid: number; groups?: string[] }) => ({ ...serverFacts(), user: { sudo: "passwordless" as const, ...user } });

    it("warns when a sudo user is not in the docker group, naming the fix; root and docker members are fine", () => {
        const [f] = dockerHostFindings(facts({ name: "ops", uid: 1000, groups: ["ops", "sudo"] }), "docker", undefined, undefined);
        assert.equal(f.id, "docker-host-group");
        assert.match(f.message, /ops is not in the docker group/);
        assert.match(f.fix, /usermod -aG docker ops/);
        assert.deepEqual(dockerHostFindings(facts({ name: "ops", uid: 1000, groups: ["ops", "docker"] }), "docker", undefined, undefined), []);
        assert.deepEqual(dockerHostFindings(facts({ name: "root", uid: 0, groups: ["root"] }), "docker", undefined, undefined), []);
        assert.deepEqual(dockerHostFindings(facts({ name: "ops", uid: 1000 }), "docker", undefined, undefined), [], "unknown groups: nothing claimed");
    });

    it("warns when the rootless user has no context of their own, and not once `docker context use rootless` is set", () => {
        const none = dockerHostFindings(facts({ name: "root", uid: 0 }), "docker-rootless", "alice", undefined);
        assert.equal(none[0].id, "docker-host-context");
        assert.match(none[0].fix, /docker context use rootless/);
        assert.equal(dockerHostFindings(facts({ name: "root", uid: 0 }), "docker-rootless", "alice", '{"currentContext":"default"}').length, 1);
        assert.deepEqual(dockerHostFindings(facts({ name: "root", uid: 0 }), "docker-rootless", "alice", '{"currentContext":"rootless"}'), []);
        assert.equal(rootlessCliConfigPath("/home/alice/.config/docker/daemon.json"), "/home/alice/.docker/config.json");
    });

    it("reads the SSH user's groups from the probe", () => {
        const probe = JSON.parse(JSON.stringify({ probeVersion: "1", user: "ops", uid: "1000", groups: "ops sudo docker" }));
        assert.deepEqual(parseHostFacts(JSON.stringify(probe)).user.groups, ["ops", "sudo", "docker"]);
    });
});
