import { strict as assert } from "node:assert";
import { PODMAN_CDI_SPECS, podmanWorkloadFindings } from "../../../sdk/runtime/podmanPreflight";
import { serverFacts } from "../../helpers/serverFacts";

describe("a Podman workload's preflight: podman there, a CDI spec it can read (issue 27)", () => {
    const facts = (podmanVersion: string | undefined, cdiSpecs: string[]) => ({ ...serverFacts(), podmanVersion, cdiSpecs });
    const spec = (version: string) => `---\ncdiVersion: ${version}\nkind: nvidia.com/gpu\ndevices: []\n`;

    it("warns when the spec on the host is format 0.7.0 and Podman is older than 5.1.0, naming the file, both versions and the fixes", () => {
        const found = podmanWorkloadFindings(facts("4.3.1", ["/var/run/cdi/nvidia.yaml"]), { "/var/run/cdi/nvidia.yaml": spec('"0.7.0"') });
        assert.deepEqual(
            found.map((f) => [f.id, f.severity]),
            [["cdi-spec-too-new", "warning"]],
        );
        assert.match(
            found[0].message,
            /\/var\/run\/cdi\/nvidia\.yaml is CDI spec format 0\.7\.0, which podman 4\.3\.1 cannot read \(it needs podman ≥ 5\.1\.0\)/,
        );
        assert.match(found[0].fix, /upgrade podman to 5\.1\.0 or newer, or pin the node's toolkit\.version below 1\.19\.1/);
    });

    it("says nothing for an older spec, for Podman 5.1 or newer, or for a JSON spec it does not parse", () => {
        assert.deepEqual(podmanWorkloadFindings(facts("4.3.1", ["/var/run/cdi/nvidia.yaml"]), { "/var/run/cdi/nvidia.yaml": spec("0.5.0") }), []);
        assert.deepEqual(podmanWorkloadFindings(facts("5.4.2", ["/etc/cdi/nvidia.yaml"]), { "/etc/cdi/nvidia.yaml": spec("0.7.0") }), []);
        assert.deepEqual(podmanWorkloadFindings(facts("4.3.1", ["/var/run/cdi/nvidia.json"]), {}), []);
    });

    it("refuses to run without podman, and warns when the host has no CDI spec for nvidia.com/gpu devices", () => {
        assert.deepEqual(
            podmanWorkloadFindings(facts(undefined, ["/var/run/cdi/nvidia.yaml"]), {}).map((f) => [f.id, f.severity]),
            [["podman-missing", "error"]],
        );
        const none = podmanWorkloadFindings(facts("4.3.1", []), {});
        assert.deepEqual(
            none.map((f) => f.id),
            ["cdi-spec-missing"],
        );
        assert.match(none[0].fix, /runtime podman/);
    });

    it("reads the YAML specs the toolkit writes, in both CDI folders", () => {
        assert.deepEqual(PODMAN_CDI_SPECS, ["/etc/cdi/nvidia.yaml", "/var/run/cdi/nvidia.yaml"]);
    });
});
