import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseHostFacts } from "../../../sdk/host/hostFacts";
import { REPO_ROOT } from "../../helpers/paths";
import { PROBE_DIR, factsOf, fakeBin, h200Vm, readProbe, recordedSection } from "../../fixtures/dataCentreHosts";

describe("data-centre probe (issue 17)", () => {
    it("reads the real 2×H200 VM guest: fabric Completed / Success on both GPUs, persistence Enabled, MIG Disabled, NV18, the H200 MIG profiles, no NVSwitch", () => {
        const facts = h200Vm();
        const dc = facts.dataCentre!;
        assert.equal(dc.probed, true);
        assert.deepEqual(dc.gpus, [
            { index: 0, persistenceMode: "Enabled", migCurrent: "Disabled", migPending: "Disabled", fabricState: "Completed", fabricStatus: "Success" },
            { index: 1, persistenceMode: "Enabled", migCurrent: "Disabled", migPending: "Disabled", fabricState: "Completed", fabricStatus: "Success" },
        ]);
        assert.deepEqual(dc.nvlinks, [{ a: 0, b: 1, links: 18 }]);
        assert.deepEqual(dc.nvswitchPci, []);
        assert.deepEqual(dc.nvswitchDevices, []);
        assert.deepEqual(dc.packages, {});
        assert.deepEqual(dc.migGpuInstances, []);
        assert.deepEqual(
            dc.migProfiles.filter((p) => p.gpu === 0).map((p) => `${p.name}:${p.id}:${p.total}`),
            ["1g.18gb:19:7", "1g.18gb+me:20:1", "1g.35gb:15:4", "2g.35gb:14:3", "3g.71gb:9:2", "4g.71gb:5:1", "7g.141gb:0:1"],
        );
        assert.equal(dc.migProfiles.find((p) => p.name === "7g.141gb")?.memoryGiB, 140);
    });

    it("runs probe.sh against the first 2×H200 recording through a fake nvidia-smi that knows no fabric.* field: the fabric comes from nvidia-smi -q", () => {
        const rec = "h200x2-vm/nvidia-smi-queries.txt";
        const csv = recordedSection(
            rec,
            "nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,persistence_mode,mig.mode.current,mig.mode.pending,driver_version --format=csv",
        )
            .split("\n")
            .slice(1)
            .filter(Boolean)
            .map((l) => l.split(", "));
        const old = JSON.parse(readProbe("h200x2-vm/probe.json")) as Record<string, string>;
        const dir = fakeBin({
            sections: "",
            "nvidia-smi": `#!/bin/sh
d=$(dirname "$0")
case "$*" in
    "--query-gpu=index,name,uuid,driver_version,memory.total,compute_cap,mig.mode.current,pci.bus_id --format=csv,noheader,nounits") cat "$d/csv" ;;
    *fabric.state*) echo 'Field "fabric.state" is not a valid field to query.'; exit 2 ;;
    "--query-gpu=index,persistence_mode,mig.mode.current,mig.mode.pending --format=csv,noheader") cat "$d/modes" ;;
    "-q") cat ${path.join(PROBE_DIR, "h200x2-vm/nvidia-smi-q.txt")} ;;
    "topo -m") cat "$d/topo" ;;
    "mig -lgip") cat "$d/lgip" ;;
    "mig -lgi") cat "$d/lgi" ;;
    "mig -lci") cat "$d/lci" ;;
    *) echo "fake nvidia-smi: $*" >&2; exit 2 ;;
esac
`,
        });
        fs.writeFileSync(path.join(dir, "csv"), `${old.nvidiaSmi}\n`);
        fs.writeFileSync(path.join(dir, "modes"), csv.map((f) => `${f[0]}, ${f[4]}, ${f[5]}, ${f[6]}`).join("\n") + "\n");
        for (const [file, cmd] of [
            ["topo", "topo -m"],
            ["lgip", "mig -lgip"],
            ["lgi", "mig -lgi"],
            ["lci", "mig -lci"],
        ])
            fs.writeFileSync(path.join(dir, file), recordedSection(rec, `nvidia-smi ${cmd}`));
        const run = spawnSync("sh", [path.join(REPO_ROOT, "sdk/host/probe.sh")], {
            encoding: "utf8",
            env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
        });
        fs.rmSync(dir, { recursive: true, force: true });
        assert.equal(run.status, 0, run.stderr);
        const facts = parseHostFacts(run.stdout);
        const dc = facts.dataCentre!;
        assert.equal(facts.gpus.length, 2);
        assert.deepEqual(
            dc.gpus.map((g) => [g.index, g.persistenceMode, g.migCurrent, g.fabricState, g.fabricStatus]),
            [
                [0, "Enabled", "Disabled", "Completed", "Success"],
                [1, "Enabled", "Disabled", "Completed", "Success"],
            ],
        );
        assert.deepEqual(dc.nvlinks, [{ a: 0, b: 1, links: 18 }]);
        assert.equal(dc.migProfiles.length, 14);
    });

    it("reads the hand-made HGX fixtures: NVSwitch functions and device nodes, Fabric Manager packages, versions and services, InfiniBand", () => {
        const fm = factsOf("handmade-hgx-h100-fm.json").dataCentre!;
        assert.equal(fm.nvswitchPci.length, 4);
        assert.equal(fm.nvswitchDevices.length, 4);
        assert.equal(fm.nvlinks.length, 28, "8 GPUs, every pair NV18");
        assert.deepEqual(fm.packages["nvidia-fabricmanager-580"], "580.95.05-0ubuntu0.22.04.1");
        assert.equal(fm.fabricManagerVersion, "580.95.05");
        assert.deepEqual(fm.services["nvidia-fabricmanager"], { active: "active", enabled: "enabled" });
        const noFm = factsOf("handmade-hgx-h100-no-fm.json").dataCentre!;
        assert.deepEqual(
            noFm.gpus[7],
            { index: 7, persistenceMode: "Disabled", migCurrent: "Disabled", migPending: "Disabled", fabricState: "In Progress", fabricStatus: undefined },
            "fabric from the -q fallback, matched by bus id",
        );
        assert.deepEqual(noFm.packages, {});
        const b200 = factsOf("handmade-hgx-b200-nvl5.json");
        assert.deepEqual(b200.dataCentre!.nvswitchPci, []);
        assert.equal(b200.dataCentre!.ibUmadLoaded, true);
        assert.equal(b200.gpus[0].computeCapability, "10.0");
    });

    it("keeps every older probe output parseable: no data-centre facts, probed false", () => {
        for (const name of fs
            .readdirSync(PROBE_DIR)
            .filter((f) => f.endsWith(".json") && !f.startsWith("handmade-hgx"))
            .concat("h200x2-vm/probe.json")) {
            const facts = parseHostFacts(readProbe(name));
            assert.equal(facts.dataCentre?.probed, false, name);
            assert.deepEqual(facts.dataCentre?.gpus, [], name);
        }
    });
});
