import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OBJECTS_ROOT } from "../../../sdk/host/managedObjects";
import { HostSnapshot, parseSnapshot, snapshotScript } from "../../../sdk/host/snapshot";
import { NodeSpec, nodePlan } from "../../../sdk/node/nodePlan";
import { PlanStep } from "../../../sdk/steps/planStep";
import { probeFixture } from "../../helpers/paths";
import { serverFacts } from "../../helpers/serverFacts";

/*
 * The engine's part played as in engineInvariant.test.ts, for what is not a file (issue 22): a step "runs" only when
 * its script differs from the last applied one. The host is a set of stand-ins on PATH, named so: dpkg-query,
 * systemctl and nvidia-ctk answer from files in a temp folder that each case edits as a user would edit the host
 * (apt-get remove leaves `rc`, systemctl stop, rm of the CDI spec). The read is the real snapshot script.
 */

const TOOLKIT = ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1"];

/** Stand-in for dpkg-query -W -f FORMAT PKG...: answers from $FAKE_STATE/pkg-NAME (`version|abbrev`). */
const DPKG_QUERY = `#!/bin/sh
fmt=$3; shift 3; rc=0
for pattern in "$@"; do
    found=no
    for f in "$FAKE_STATE"/pkg-$pattern; do
        [ -r "$f" ] || continue
        found=yes; p=\${f##*/pkg-}
        v=$(cut -d'|' -f1 "$f"); a=$(cut -d'|' -f2 "$f")
        printf "$(printf '%s' "$fmt" | sed "s/[$]{Package}/$p/g; s/[$]{Version}/$v/g; s/[$]{db:Status-Abbrev}/$a/g")"
    done
    [ "$found" = yes ] || { echo "dpkg-query: no packages found matching $pattern" >&2; rc=1; }
done
exit $rc
`;
/** Stand-in for apt-mark showhold: the names in $FAKE_STATE/holds. */
const APT_MARK = `#!/bin/sh
[ "$1" = showhold ] && cat "$FAKE_STATE/holds" 2>/dev/null
exit 0
`;
/** Stand-in for systemctl: unit states in $FAKE_STATE/svc-UNIT (`active enabled`); start / enable change them. */
const SYSTEMCTL = `#!/bin/sh
f="$FAKE_STATE/svc-$2"
[ "$1" = --quiet ] && { f="$FAKE_STATE/svc-$3"; set -- "$2" "$3"; quiet=1; }
case "$1" in
    is-active) s=$(cut -d' ' -f1 "$f" 2>/dev/null || echo inactive); [ -n "\${quiet:-}" ] || echo "$s"; [ "$s" = active ] ;;
    is-enabled) s=$(cut -d' ' -f2 "$f" 2>/dev/null || echo not-found); echo "$s"; [ "$s" = enabled ] ;;
    start) printf 'active %s\\n' "$(cut -d' ' -f2 "$f")" > "$f" ;;
    enable) printf '%s enabled\\n' "$(cut -d' ' -f1 "$f")" > "$f" ;;
    reset-failed) exit 0 ;;
    *) exit 1 ;;
esac
`;
/** Stand-in for nvidia-ctk cdi list: the devices in $FAKE_STATE/cdi-list. */
const NVIDIA_CTK = `#!/bin/sh
if [ "$1 $2" = "cdi list" ]; then echo 'INFO[0000] Found devices' >&2; cat "$FAKE_STATE/cdi-list" 2>/dev/null; fi
`;

describe("drift in packages, services and the CDI spec changes exactly the repairing steps' inputs (issue 22)", () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;

    const state = (name: string, value: string) => fs.writeFileSync(path.join(dir, "state", name), value);
    const packages = (version: string, abbrev = "ii ") => TOOLKIT.forEach((p) => state(`pkg-${p}`, `${version}|${abbrev}`));

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "object-drift-"));
        fs.mkdirSync(path.join(dir, "bin"));
        fs.mkdirSync(path.join(dir, "state"));
        fs.writeFileSync(path.join(dir, "bin", "dpkg-query"), DPKG_QUERY, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "bin", "systemctl"), SYSTEMCTL, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "bin", "nvidia-ctk"), NVIDIA_CTK, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "bin", "apt-mark"), APT_MARK, { mode: 0o755 });
        env = { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, FAKE_STATE: path.join(dir, "state") };
        packages("1.19.0-1");
        state("svc-docker", "active enabled\n");
        state("cdi-list", "nvidia.com/gpu=0\nnvidia.com/gpu=all\n");
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    function run(text: string): { status: number | null; stdout: string; stderr: string } {
        // The records live in the temp folder, not this machine's /var/lib: test runs side by side keep apart.
        const r = spawnSync("sh", ["-c", text.replaceAll(OBJECTS_ROOT, `${dir}/objects`)], { encoding: "utf8", env });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }

    /** The host as the real snapshot script reads it (its probe part is not needed here). */
    function read(): HostSnapshot {
        const full = snapshotScript([]);
        const out = run(`#!/bin/sh\nset -eu\n${full.slice(full.indexOf("echo '--- pulumi-nvidia-gpu files ---'"))}`);
        assert.equal(out.status, 0, out.stderr);
        return { ...parseSnapshot(`${probeFixture("debian12-no-gpu.json")}\n${out.stdout}`, "test"), facts: serverFacts() };
    }

    const SPEC: NodeSpec = { runtime: "docker", enableCdi: true, toolkit: { version: "1.19.0-1" } };
    const plan = (): PlanStep[] => nodePlan(read(), SPEC).plan.steps;
    const step = (steps: PlanStep[], name: string) => steps.find((s) => s.name === name)!;

    /** Runs a managed step the way the engine would, with the restart's stamp kept in the temp folder. */
    function apply(s: PlanStep): string {
        const r = run(s.script.replace(/^stamp=.*$/m, `stamp=${dir}/stamp`));
        assert.equal(r.status, 0, `${s.name}: ${r.stderr}`);
        return r.stdout;
    }

    /** The first apply: every managed step runs once (on this converged stand-in host each finds nothing to do). */
    function firstApply(): PlanStep[] {
        const first = plan();
        // The restart stamp says docker runs with this config already: the restart step finds nothing to restart.
        fs.writeFileSync(`${dir}/stamp`, /^want=(\S+)$/m.exec(step(first, "docker-restart").script)![1]);
        for (const name of ["toolkit-packages", "docker-restart"]) apply(step(first, name));
        // The CDI step writes into /var/run/cdi: only its record is taken here, as its run would leave it.
        const cdi = step(first, "cdi-spec").script;
        apply({ ...step(first, "cdi-spec"), script: cdi.replace(/^\(\n[\s\S]*?^\)$/m, "(\n:\n)") });
        return first;
    }

    it("apt-get remove nvidia-container-toolkit (dpkg state rc) changes the packages step's inputs and preview names it", () => {
        const first = firstApply();
        const converged = plan();
        assert.deepEqual(
            converged.map((s) => s.script),
            first.map((s) => s.script),
            "converged: every step's inputs are byte-identical to the last applied ones",
        );
        assert.deepEqual(
            converged.flatMap((s) => s.drift ?? []),
            [],
        );

        state("pkg-nvidia-container-toolkit", "1.19.0-1|rc ");
        const drifted = plan();
        assert.notEqual(step(drifted, "toolkit-packages").script, step(first, "toolkit-packages").script, "the packages step runs");
        assert.deepEqual(step(drifted, "toolkit-packages").drift, ["nvidia-container-toolkit: 1.19.0-1 → not installed (rc)"]);
        for (const s of drifted.filter((s) => !["toolkit-packages", "cdi-spec"].includes(s.name))) {
            assert.equal(s.script, step(first, s.name).script, `${s.name} does not repair a package: its inputs stay`);
        }

        packages("1.19.0-1"); // what the re-run of the packages step leaves
        apply(step(drifted, "toolkit-packages"));
        assert.equal(step(plan(), "toolkit-packages").script, step(drifted, "toolkit-packages").script, "repaired: converged again");
    });

    it("a purge, another version by hand and a half-installed package are each named", () => {
        firstApply();
        TOOLKIT.forEach((p) => fs.rmSync(path.join(dir, "state", `pkg-${p}`)));
        assert.deepEqual(step(plan(), "toolkit-packages").drift?.[0], "nvidia-container-toolkit: 1.19.0-1 → not installed");
        packages("1.17.8-1");
        assert.deepEqual(step(plan(), "toolkit-packages").drift?.[0], "nvidia-container-toolkit: 1.19.0-1 → 1.17.8-1");
        packages("1.19.0-1", "iU ");
        assert.deepEqual(step(plan(), "toolkit-packages").drift?.[0], "nvidia-container-toolkit: 1.19.0-1 → 1.19.0-1 (half-installed iU)");
    });

    it("a deleted CDI spec (nvidia-ctk cdi list finds no devices) changes the cdi-spec step's inputs", () => {
        const first = firstApply();
        state("cdi-list", "");
        const drifted = plan();
        assert.notEqual(step(drifted, "cdi-spec").script, step(first, "cdi-spec").script);
        assert.deepEqual(step(drifted, "cdi-spec").drift, [
            "cdi device nvidia.com/gpu=0: listed → not listed",
            "cdi device nvidia.com/gpu=all: listed → not listed",
        ]);
        assert.equal(step(drifted, "toolkit-packages").script, step(first, "toolkit-packages").script);
        state("cdi-list", "nvidia.com/gpu=1\nnvidia.com/gpu=all\n"); // regenerated by hand with other devices
        assert.deepEqual(step(plan(), "cdi-spec").drift, ["cdi device nvidia.com/gpu=0: listed → not listed", "cdi device nvidia.com/gpu=1: absent → listed"]);
    });

    it("docker stopped and disabled by hand: the restart step's inputs change, and its run starts and enables it again", () => {
        const first = firstApply();
        state("svc-docker", "inactive disabled\n");
        const drifted = plan();
        const restart = step(drifted, "docker-restart");
        assert.notEqual(restart.script, step(first, "docker-restart").script);
        assert.deepEqual(restart.drift, ["docker: active, enabled → inactive, disabled"]);
        const out = apply(restart);
        assert.match(out, /enabled docker again/);
        assert.match(out, /started docker again/);
        assert.equal(fs.readFileSync(path.join(dir, "state", "svc-docker"), "utf8"), "active enabled\n");
        assert.equal(step(plan(), "docker-restart").script, restart.script, "repaired: converged again");
    });

    it("a Fabric Manager hold removed by hand (apt-mark unhold) changes the fabric-manager-packages step's inputs", () => {
        const fabricPlan = () =>
            nodePlan({ ...read(), facts: serverFacts("handmade-hgx-h100-no-fm.json") }, { runtime: "docker", toolkit: { version: "1.19.0-1" } }).plan.steps;
        state("pkg-nvidia-fabricmanager-570", "570.86.15-1|ii ");
        state("holds", "nvidia-fabricmanager-570\n");
        const first = step(fabricPlan(), "fabric-manager-packages");
        // Only the record its run leaves is taken here: the step itself reads the driver library on this machine's disk.
        apply({ ...first, script: first.script.replace(/^\(\n[\s\S]*?^\)$/m, "(\n:\n)") });
        assert.equal(step(fabricPlan(), "fabric-manager-packages").script, first.script, "converged: the same inputs");
        state("holds", "");
        const drifted = step(fabricPlan(), "fabric-manager-packages");
        assert.notEqual(drifted.script, first.script, "the hold's removal makes the step run, and it holds the package again");
        assert.deepEqual(drifted.drift, ["hold nvidia-fabricmanager-570: held → absent"]);
    });

    it("destroy forgets the record: the undo removes it and an empty objects folder", () => {
        const first = firstApply();
        assert.ok(fs.existsSync(`${dir}/objects/docker-restart`));
        const r = run(step(first, "docker-restart").undoScript!.replace(/^stamp=.*$/m, `stamp=${dir}/stamp`));
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.existsSync(`${dir}/objects/docker-restart`), false);
        assert.equal(fs.existsSync(`${dir}/objects/docker-restart.gen`), false);
    });
});
