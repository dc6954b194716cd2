import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { GpuConfigError } from "../../../sdk/errors";
import { HostFacts } from "../../../sdk/host/hostFacts";
import { MIG_RECORD_DIR, MigLayoutSpec, diffMigLayout, migLayoutPlan, migLayoutPreview, resolveMigLayout } from "../../../sdk/datacentre/migLayout";
import { nodePlan } from "../../../sdk/node/nodePlan";
import { fakeBin, h200Vm, snapshotOf } from "../../fixtures/dataCentreHosts";

const refused = (fn: () => unknown, field: string, pattern: RegExp) =>
    assert.throws(fn, (e: GpuConfigError) => e instanceof GpuConfigError && e.field === field && pattern.test(e.message));

/**
 * A fake nvidia-smi that keeps MIG state in files: mode.<i>, pending.<i>, gi.<i> (one profile name a line), apps.<i>,
 * and a file `reset-needed` that makes a mode change wait for a GPU reset (Ampere). Every call is logged.
 */
const FAKE_SMI = `#!/bin/sh
s=$FAKE
echo "nvidia-smi $*" >> "$s/log"
name_of() { case "$1" in 19) echo 1g.18gb ;; 20) echo 1g.18gb+me ;; 15) echo 1g.35gb ;; 14) echo 2g.35gb ;; 9) echo 3g.71gb ;; 5) echo 4g.71gb ;; 0) echo 7g.141gb ;; *) return 1 ;; esac; }
if [ "$1" = mig ]; then
    i=$3; shift 3
    case "$1" in
        -dci) [ "$(cat "$s/mode.$i")" = Enabled ] || exit 6; exit 0 ;;
        -dgi) [ "$(cat "$s/mode.$i")" = Enabled ] || exit 6; : > "$s/gi.$i"; exit 0 ;;
        -cgi) [ "$(cat "$s/mode.$i")" = Enabled ] || { echo "MIG mode is not enabled" >&2; exit 6; }
            for id in $(echo "$2" | tr ',' ' '); do name_of "$id" >> "$s/gi.$i" || exit 2; done; exit 0 ;;
        -lgi) if [ "$(cat "$s/mode.$i")" != Enabled ] || [ ! -s "$s/gi.$i" ]; then echo "No GPU instances found"; exit 6; fi
            n=1; while read -r p; do printf '|   %s  MIG %-16s %3s     %3s          0:1     |\\n' "$i" "$p" 0 "$n"; n=$((n + 1)); done < "$s/gi.$i"; exit 0 ;;
    esac
    exit 2
fi
i=$2; shift 2
case "$*" in
    "--query-gpu=uuid --format=csv,noheader") sed -n "$((i + 1))p" "$s/uuids" ;;
    "--query-gpu=mig.mode.current --format=csv,noheader") cat "$s/mode.$i" ;;
    "--query-gpu=mig.mode.pending --format=csv,noheader") cat "$s/pending.$i" ;;
    "--query-compute-apps=pid,process_name --format=csv,noheader") cat "$s/apps.$i" 2>/dev/null || true ;;
    "-mig 1") echo Enabled > "$s/pending.$i"; [ -e "$s/reset-needed" ] || echo Enabled > "$s/mode.$i" ;;
    "-mig 0") echo Disabled > "$s/pending.$i"; [ -e "$s/reset-needed" ] || echo Disabled > "$s/mode.$i" ;;
    "-r") [ -e "$s/reset-fails" ] && exit 1; cp "$s/pending.$i" "$s/mode.$i" ;;
    *) echo "fake nvidia-smi: $*" >&2; exit 2 ;;
esac
`;

describe("MIG layouts (issue 17)", () => {
    const vm = h200Vm();

    it("resolves a layout by index, UUID and 'every other GPU' against the recorded H200 profiles", () => {
        const targets = resolveMigLayout(vm, {
            devices: [{ gpus: [vm.gpus[1].uuid], profiles: { "1g.18gb": 7 } }, { profiles: { "3g.71gb": 1, "4g.71gb": 1 } }],
        });
        assert.deepEqual(
            targets.map((t) => [t.index, t.enabled, t.profiles.map((p) => `${p.name}:${p.id}`).join(",")]),
            [
                [0, true, "3g.71gb:9,4g.71gb:5"],
                [1, true, Array(7).fill("1g.18gb:19").join(",")],
            ],
        );
    });

    it("refuses a profile the GPU does not support, naming the ones it has (from the recorded nvidia-smi mig -lgip)", () => {
        refused(
            () => resolveMigLayout(vm, { devices: [{ profiles: { "1g.10gb": 1 } }] }),
            "migLayout.devices[0].profiles",
            /"1g\.10gb" is not a MIG profile of GPU 0 \(NVIDIA H200\) — use one of: 1g\.18gb, 1g\.18gb\+me, 1g\.35gb, 2g\.35gb, 3g\.71gb, 4g\.71gb, 7g\.141gb/,
        );
    });

    it("refuses layouts that do not fit, unknown GPUs, doubly named GPUs and profiles with MIG off", () => {
        refused(
            () => resolveMigLayout(vm, { devices: [{ profiles: { "3g.71gb": 3 } }] }),
            "migLayout.devices[0].profiles.3g.71gb",
            /3 is not a count GPU 0 can hold — use 0 to 2/,
        );
        refused(
            () => resolveMigLayout(vm, { devices: [{ profiles: { "4g.71gb": 1, "7g.141gb": 1 } }] }),
            "migLayout.devices[0].profiles",
            /needs 11 compute slices .* GPU 0 has 7 and 140\.00 GiB/,
        );
        refused(
            () => resolveMigLayout(vm, { devices: [{ profiles: { "1g.35gb": 4, "1g.18gb": 1 } }] }),
            "migLayout.devices[0].profiles",
            /146\.00 GiB; GPU 0 has 7 and 140\.00 GiB/,
        );
        refused(
            () => resolveMigLayout(vm, { devices: [{ gpus: ["2"], profiles: {} }] }),
            "migLayout.devices[0].gpus[0]",
            /"2" is not a GPU of this host — use an index or UUID of: 0 \(GPU-/,
        );
        refused(
            () => resolveMigLayout(vm, { devices: [{ gpus: ["0"] }, { gpus: [vm.gpus[0].uuid] }] }),
            "migLayout.devices[1].gpus[0]",
            /GPU 0 is already laid out by devices\[0\]/,
        );
        refused(
            () => resolveMigLayout(vm, { devices: [{ enabled: false, profiles: { "1g.18gb": 1 } }] }),
            "migLayout.devices[0].enabled",
            /is false but profiles are given/,
        );
    });

    it("diffs the current layout against the wanted one, with a preview, and reports it from nodePlan", () => {
        const targets = resolveMigLayout(vm, { devices: [{ gpus: ["0"], profiles: { "3g.71gb": 2 } }, { enabled: false }] });
        assert.deepEqual(migLayoutPreview(diffMigLayout(vm, targets)), [
            `GPU 0 (NVIDIA H200, ${vm.gpus[0].uuid}): MIG Disabled → Enabled; instances none → 3g.71gb ×2`,
            `GPU 1 (NVIDIA H200, ${vm.gpus[1].uuid}): unchanged (MIG Disabled, instances none)`,
        ]);
        const withMig: HostFacts = {
            ...vm,
            dataCentre: {
                ...vm.dataCentre!,
                gpus: vm.dataCentre!.gpus.map((g) => ({ ...g, migCurrent: "Enabled" })),
                migGpuInstances: [
                    { gpu: 0, profile: "3g.71gb", profileId: 9, instanceId: 1, placement: "0:4" },
                    { gpu: 0, profile: "3g.71gb", profileId: 9, instanceId: 2, placement: "4:4" },
                ],
            },
        };
        assert.equal(diffMigLayout(withMig, targets)[0].changed, false);
        const planned = nodePlan(snapshotOf(vm), {
            runtime: "cdi",
            toolkit: { version: "1.20.0-1" },
            migLayout: { devices: [{ gpus: ["0"], profiles: { "3g.71gb": 2 } }] },
        });
        const names = planned.plan.steps.map((s) => s.name);
        assert.ok(names.indexOf("mig-layout") >= 0 && names.indexOf("mig-layout") < names.indexOf("toolkit-prerequisites"), names.join(" "));
        assert.match(planned.findings.find((f) => f.id === "mig-layout")!.message, /GPU 0 .*MIG Disabled → Enabled; instances none → 3g\.71gb ×2/);
    });

    describe("the apply script, in a real shell against a fake nvidia-smi that keeps MIG state in files", () => {
        let dir: string;
        const state = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
        const layout: MigLayoutSpec = {
            devices: [
                { gpus: ["0"], profiles: { "3g.71gb": 1, "1g.18gb": 2 } },
                { gpus: ["1"], enabled: false },
            ],
        };
        const run = (spec = layout, which: "script" | "undoScript" = "script") => {
            const text = migLayoutPlan(vm, spec)
                .steps[0][which]!.split("/etc/cdi/nvidia.yaml")
                .join(path.join(dir, "cdi", "nvidia.yaml"))
                .split(MIG_RECORD_DIR)
                .join(path.join(dir, "record"));
            return spawnSync("sh", ["-s"], { input: text, encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FAKE: dir } });
        };
        beforeEach(() => {
            dir = fakeBin({
                "nvidia-smi": FAKE_SMI,
                docker: `#!/bin/sh\necho "docker $*" >> "$FAKE/log"\n`,
                systemctl: `#!/bin/sh\necho "systemctl $*" >> "$FAKE/log"\ncase "$1" in is-active) [ "$3" = nvidia-dcgm ] ;; esac\n`,
                "nvidia-ctk": `#!/bin/sh\necho "nvidia-ctk $*" >> "$FAKE/log"\nout=\${3#--output=}\necho "# spec for $(cat "$FAKE"/gi.0 | tr '\\n' ' ')" > "$out"\n`,
            });
            fs.writeFileSync(path.join(dir, "uuids"), `${vm.gpus[0].uuid}\n${vm.gpus[1].uuid}\n`);
            for (const i of [0, 1]) for (const f of ["mode", "pending"]) fs.writeFileSync(path.join(dir, `${f}.${i}`), "Disabled\n");
            fs.writeFileSync(path.join(dir, "log"), "");
            fs.mkdirSync(path.join(dir, "cdi"));
            fs.writeFileSync(path.join(dir, "cdi", "nvidia.yaml"), "# old spec\n");
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("stops GPU services, sets MIG mode, creates the instances, regenerates the CDI spec, verifies, starts the services; then is unchanged", () => {
            const first = run();
            assert.equal(first.status, 0, first.stderr + first.stdout);
            assert.match(first.stdout, /changed: MIG layout applied to GPU 0/);
            assert.equal(state("mode.0"), "Enabled\n");
            assert.equal(state("gi.0"), "1g.18gb\n1g.18gb\n3g.71gb\n");
            assert.equal(state("mode.1"), "Disabled\n");
            assert.match(state("cdi/nvidia.yaml"), /spec for 1g\.18gb 1g\.18gb 3g\.71gb/);
            const order = state("log")
                .split("\n")
                .filter((l) => /systemctl (stop|start)|-mig 1|-cgi|nvidia-ctk|mig -i 0 -lgi/.test(l));
            const at = (re: RegExp) => order.findIndex((l) => re.test(l));
            assert.ok(at(/systemctl stop nvidia-dcgm/) < at(/-i 0 -mig 1/), order.join("\n"));
            assert.ok(at(/-i 0 -mig 1/) < at(/mig -i 0 -cgi 19,19,9 -C/));
            assert.ok(at(/-cgi/) < at(/nvidia-ctk cdi generate/));
            assert.ok(
                order.slice(at(/nvidia-ctk/)).some((l) => /mig -i 0 -lgi/.test(l)),
                "verified after the CDI spec",
            );
            assert.match(order[order.length - 1], /systemctl start nvidia-dcgm/);
            fs.writeFileSync(path.join(dir, "log"), "");
            const again = run();
            assert.equal(again.status, 0, again.stderr);
            assert.equal(again.stdout.trim(), "unchanged: MIG layout in place");
            assert.doesNotMatch(state("log"), /-cgi|-mig|systemctl stop/);
        });

        it("refuses to touch a GPU that still runs workloads, and starts the stopped services again", () => {
            fs.writeFileSync(path.join(dir, "apps.0"), "4242, python3\n");
            const r = run();
            assert.equal(r.status, 51);
            assert.match(r.stderr, /GPU 0 still runs 4242, python3; stop these workloads \(or drain the node\)/);
            assert.equal(state("mode.0"), "Disabled\n");
            assert.match(state("log"), /systemctl start nvidia-dcgm/);
        });

        it("refuses when the GPUs changed since the plan (another UUID at index 0)", () => {
            fs.writeFileSync(path.join(dir, "uuids"), `GPU-00000000-0000-0000-0000-000000000000\n${vm.gpus[1].uuid}\n`);
            const r = run();
            assert.equal(r.status, 50);
            assert.match(r.stderr, /GPU 0 is GPU-00000000-0000-0000-0000-000000000000, not GPU-/);
        });

        it("resets a GPU whose MIG mode stays pending, and asks for a reboot when the reset fails", () => {
            fs.writeFileSync(path.join(dir, "reset-needed"), "");
            const reset = run();
            assert.equal(reset.status, 0, reset.stderr);
            assert.match(state("log"), /nvidia-smi -i 0 -r/);
            assert.equal(state("gi.0"), "1g.18gb\n1g.18gb\n3g.71gb\n");
            for (const f of ["mode.0", "pending.0", "gi.0"]) fs.rmSync(path.join(dir, f), { force: true });
            fs.writeFileSync(path.join(dir, "mode.0"), "Disabled\n");
            fs.writeFileSync(path.join(dir, "pending.0"), "Disabled\n");
            fs.writeFileSync(path.join(dir, "reset-fails"), "");
            const reboot = run();
            assert.equal(reboot.status, 0, reboot.stderr);
            assert.match(reboot.stdout, /reboot-required: GPU 0's MIG mode is pending Enabled/);
        });

        it("an undo that needs a reboot fails and keeps the record, so destroy can finish after it (review finding)", () => {
            assert.equal(run().status, 0);
            fs.writeFileSync(path.join(dir, "reset-needed"), "");
            fs.writeFileSync(path.join(dir, "reset-fails"), "");
            const undo = run(layout, "undoScript");
            assert.equal(undo.status, 54, undo.stdout + undo.stderr);
            assert.match(undo.stdout, /reboot-required: GPU 0's MIG mode is pending Disabled/);
            assert.ok(fs.readdirSync(path.join(dir, "record")).includes("0"), "the layout from before the plan is still recorded");
            fs.rmSync(path.join(dir, "reset-fails"));
            const again = run(layout, "undoScript");
            assert.equal(again.status, 0, again.stdout + again.stderr);
            assert.equal(state("mode.0"), "Disabled\n");
            assert.equal(fs.existsSync(path.join(dir, "record")), false);
        });

        it("changes a layout: destroys the old instances before creating the new ones, and turns MIG off where asked", () => {
            assert.equal(run().status, 0);
            const r = run({
                devices: [
                    { gpus: ["0"], profiles: { "7g.141gb": 1 } },
                    { gpus: ["1"], enabled: false },
                ],
            });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(state("gi.0"), "7g.141gb\n");
            const off = run({ devices: [{ enabled: false }] });
            assert.equal(off.status, 0, off.stderr);
            assert.equal(state("mode.0"), "Disabled\n");
        });
    });
});
