import { strict as assert } from "node:assert";
import { cdiSpecFormatFindings } from "../../../sdk/runtime/cdiPreflight";
import { nodePlan } from "../../../sdk/node/nodePlan";
import { serverFacts } from "../../helpers/serverFacts";

describe("CDI spec format v0.7.0 and the host's runtimes (issue 16)", () => {
    const facts = (docker: string, containerd: string) => {
        const f = serverFacts();
        return {
            ...f,
            docker: { ...f.docker!, serverVersion: docker },
            containerd: { version: containerd, configVersion: 2 },
            crioVersion: undefined,
            podmanVersion: undefined,
        };
    };

    it("warns, naming the runtime and the version it needs, when toolkit ≥ 1.19.1 writes a spec Docker 20.10 cannot read", () => {
        const found = cdiSpecFormatFindings(facts("20.10.24", "1.6.20"), "1.20.0-1", true);
        assert.deepEqual(
            found.map((f) => [f.id, f.severity]),
            [
                ["cdi-spec-too-new", "warning"],
                ["cdi-spec-too-new", "warning"],
            ],
        );
        assert.match(
            found[0].message,
            /toolkit 1\.20\.0-1 writes CDI spec format v0\.7\.0, which docker 20\.10\.24 cannot read \(it needs docker ≥ 26\.1\.0\)/,
        );
        assert.match(found[1].message, /containerd 1\.6\.20/);
    });

    it("says nothing for runtimes new enough, for toolkit 1.19.0, or when no CDI spec is written", () => {
        assert.deepEqual(cdiSpecFormatFindings(facts("27.5.1", "1.7.27"), "1.20.0-1", true), []);
        assert.deepEqual(cdiSpecFormatFindings(facts("20.10.24", "1.6.20"), "1.19.0-1", true), []);
        assert.deepEqual(cdiSpecFormatFindings(facts("20.10.24", "1.6.20"), "1.20.0-1", false), []);
    });

    it("reaches the node's findings when the plan writes a CDI spec", () => {
        const snapshot = {
            facts: facts("20.10.24", "1.7.27"),
            files: { "/etc/docker/daemon.json": "{}\n", "/etc/nvidia-container-runtime/config.toml": undefined },
            priorWrites: {},
            containerdDump: undefined,
        };
        const planned = nodePlan(snapshot, { runtime: "docker", enableCdi: true, toolkit: { version: "1.20.0-1" } });
        assert.ok(planned.findings.some((f) => f.id === "cdi-spec-too-new" && /docker 20\.10\.24/.test(f.message)));
        assert.equal(
            nodePlan(snapshot, { runtime: "docker", toolkit: { version: "1.20.0-1" } }).findings.some((f) => f.id === "cdi-spec-too-new"),
            false,
        );
    });
});
