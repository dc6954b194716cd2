import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostSnapshot, parseSnapshot, snapshotScript } from "../../../sdk/host/snapshot";
import { NodeSpec, nodePlan } from "../../../sdk/node/nodePlan";
import { watchedFiles } from "../../../sdk/node/watchedFiles";
import { PlanStep } from "../../../sdk/steps/planStep";
import { probeFixture } from "../../helpers/paths";
import { serverFacts } from "../../helpers/serverFacts";

/*
 * Rootless Docker's daemon is alice's own systemd unit (`systemctl --user`), which root's systemctl does not list, and
 * the step that restarts it runs as alice (issue 22: the drift matrix's rootless service rows). The engine's part played
 * as in objectDrift.test.ts: a step "runs" only when its script differs from the last applied one. STAND-INS on PATH,
 * named so: `systemctl --user` answers from $FAKE_STATE/user-svc-UNIT only for the user (FAKE_AS=alice; for anyone
 * else it cannot reach the user's bus, as the real one cannot), `runuser -u alice --` runs its command as alice
 * (FAKE_AS), and `id` answers as $FAKE_USER (root unless a case says otherwise). The read is the real snapshot script.
 */

/** Stand-in for systemctl --user: alice's unit states in $FAKE_STATE/user-svc-UNIT (`active enabled`). */
const SYSTEMCTL = `#!/bin/sh
if [ "$1" != --user ]; then exit 1; fi
shift
if [ "\${FAKE_AS:-}" != alice ]; then echo "Failed to connect to bus: No medium found" >&2; exit 1; fi
[ "$1" = --quiet ] && { quiet=1; shift; }
f="$FAKE_STATE/user-svc-$2"
case "$1" in
    is-active) s=$(cut -d' ' -f1 "$f" 2>/dev/null || echo inactive); [ -n "\${quiet:-}" ] || echo "$s"; [ "$s" = active ] ;;
    is-enabled) s=$(cut -d' ' -f2 "$f" 2>/dev/null || echo not-found); echo "$s"; [ "$s" = enabled ] ;;
    start) printf 'active %s\\n' "$(cut -d' ' -f2 "$f")" > "$f" ;;
    enable) printf '%s enabled\\n' "$(cut -d' ' -f1 "$f")" > "$f" ;;
    reset-failed) exit 0 ;;
    *) exit 1 ;;
esac
`;
/** Stand-in for runuser -u USER -- COMMAND...: runs COMMAND with FAKE_AS=USER and FAKE_USER=USER. */
const RUNUSER = `#!/bin/sh
[ "$1" = -u ] || exit 1
user=$2; shift 2
[ "$1" = -- ] && shift
FAKE_AS=$user FAKE_USER=$user exec "$@"
`;
/** Stand-in for id: -u and -un of $FAKE_USER (root: 0; anyone else: 1000). */
const ID = `#!/bin/sh
u=\${FAKE_USER:-root}
case "$*" in
    -u) [ "$u" = root ] && echo 0 || echo 1000 ;;
    -un) echo "$u" ;;
    *) exit 1 ;;
esac
`;

describe("rootless Docker: alice's own docker unit is a managed object, read as alice at preview (issue 22)", () => {
    let dir: string;
    let home: string;
    let env: NodeJS.ProcessEnv;

    const state = (name: string, value: string) => fs.writeFileSync(path.join(dir, "state", name), value);
    const spec = (): NodeSpec => ({ runtime: "docker-rootless", rootlessUser: "alice", rootlessHome: home, toolkit: { version: "1.19.0-1" } });

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "user-object-drift-"));
        home = path.join(dir, "home");
        fs.mkdirSync(path.join(home, ".config/docker"), { recursive: true });
        fs.writeFileSync(path.join(home, ".config/docker/daemon.json"), '{\n  "bridge": "none"\n}\n');
        fs.mkdirSync(path.join(dir, "bin"));
        fs.mkdirSync(path.join(dir, "state"));
        fs.writeFileSync(path.join(dir, "bin", "systemctl"), SYSTEMCTL, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "bin", "runuser"), RUNUSER, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "bin", "id"), ID, { mode: 0o755 });
        env = { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, FAKE_STATE: path.join(dir, "state"), FAKE_USER: "root" };
        state("user-svc-docker", "active enabled\n");
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    function run(text: string, as: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
        const r = spawnSync("sh", ["-c", text], { encoding: "utf8", env: { ...env, ...as } });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }

    /** The host as the real snapshot script reads it, as the SSH user `sshUser` (its probe part is not needed here). */
    function read(sshUser = "root"): HostSnapshot {
        const full = snapshotScript(watchedFiles(spec()));
        const out = run(`#!/bin/sh\nset -eu\n${full.slice(full.indexOf("echo '--- pulumi-nvidia-gpu files ---'"))}`, {
            FAKE_USER: sshUser,
            FAKE_AS: sshUser === "alice" ? "alice" : "",
        });
        assert.equal(out.status, 0, out.stderr);
        return { ...parseSnapshot(`${probeFixture("debian12-no-gpu.json")}\n${out.stdout}`, "test"), facts: serverFacts() };
    }

    const plan = (sshUser = "root"): PlanStep[] => nodePlan(read(sshUser), spec()).plan.steps;
    const restart = (steps: PlanStep[]) => steps.find((s) => s.name === "docker-rootless-restart")!;

    /** Runs the restart step as the engine runs it: as alice (runuser), its restart stamp saying the config is in place. */
    function apply(s: PlanStep): string {
        fs.mkdirSync(path.join(home, ".config/docker/.nvidia-gpu-backup"), { recursive: true });
        fs.writeFileSync(path.join(home, ".config/docker/.nvidia-gpu-backup/restarted"), /^want=(\S+)$/m.exec(s.script)![1]);
        assert.equal(s.runAs, "alice", "the restart step runs as alice");
        const r = run(s.script, { FAKE_AS: "alice", FAKE_USER: "alice" });
        assert.equal(r.status, 0, `${s.name}: ${r.stderr}`);
        return r.stdout;
    }

    it("alice's docker stopped and disabled by hand: preview names it, only the restart step's inputs change, and its run starts and enables it again", () => {
        const first = plan();
        apply(restart(first));
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

        state("user-svc-docker", "inactive disabled\n");
        const drifted = plan();
        assert.deepEqual(restart(drifted).drift, ["docker (user alice): active, enabled → inactive, disabled"]);
        assert.notEqual(restart(drifted).script, restart(first).script, "the restart step runs");
        for (const s of drifted.filter((s) => s.name !== "docker-rootless-restart")) {
            assert.equal(s.script, first.find((f) => f.name === s.name)!.script, `${s.name} does not repair alice's unit: its inputs stay`);
        }

        const out = apply(restart(drifted));
        assert.match(out, /enabled docker again/);
        assert.match(out, /started docker again/);
        assert.equal(fs.readFileSync(path.join(dir, "state", "user-svc-docker"), "utf8"), "active enabled\n");
        assert.equal(restart(plan()).script, restart(drifted).script, "repaired: converged again");
        assert.deepEqual(restart(plan()).drift, []);
    });

    it("only stopped: named as inactive, enabled", () => {
        apply(restart(plan()));
        state("user-svc-docker", "inactive enabled\n");
        assert.deepEqual(restart(plan()).drift, ["docker (user alice): active, enabled → inactive, enabled"]);
    });

    it("read by alice herself it is the same; by a sudo user who cannot see alice's units it shows no drift and changes nothing", () => {
        const first = restart(plan());
        apply(first);
        assert.equal(restart(plan("alice")).script, first.script);
        state("user-svc-docker", "inactive disabled\n");
        assert.deepEqual(restart(plan("alice")).drift, ["docker (user alice): active, enabled → inactive, disabled"]);
        assert.equal(restart(plan("ops")).script, first.script, "ops cannot read alice's units: the last record stands");
        assert.deepEqual(restart(plan("ops")).drift, []);
    });

    it("destroy forgets the record: the undo removes it and its folder", () => {
        const first = restart(plan());
        apply(first);
        const objects = path.join(home, ".config/docker/.nvidia-gpu-backup/objects");
        assert.ok(fs.existsSync(path.join(objects, "docker-rootless-restart")), "the run left its record beside alice's backups");
        const r = run(first.undoScript!, { FAKE_AS: "alice", FAKE_USER: "alice" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.existsSync(objects), false);
    });
});
