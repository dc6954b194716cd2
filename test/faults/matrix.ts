import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { backupPath } from "../../sdk/steps/fileStep";
import { APT_KEYRING, RPM_KEY } from "../../sdk/toolkit/toolkitPlan";
import { RunResult } from "../pulumi/engine";
import { Fixture, KINDS, Kind, KindId, UP, cell, engineAsync, hashes, repoFingerprint, tail } from "./harness";
import { declare } from "./report";

/*
 * THE FAULT MATRIX (issue 14). Each node kind gets one node and one stack; every fault starts from the node's
 * original files and ends with the same three checks:
 *   (1) every checked file is its original or its converged bytes, backups are the originals, no temp file left;
 *   (2) a re-apply (`pulumi up`) converges and `pulumi preview --expect-no-changes` passes;
 *   (3) `pulumi destroy` restores the originals byte for byte (sha256 recorded before the first up).
 * FAULT_KINDS=docker,dnf and FAULTS=repo,key (fault ids) narrow a run; FAULT_REPORT=stdout keeps the results file.
 */

const onlyKinds = process.env.FAULT_KINDS?.split(",");
const onlyFaults = process.env.FAULTS?.split(",");

const text = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const STATE_FILES =
    "find /var/lib/pulumi-nvidia-gpu /home/alice/.config/docker -type f -not -name lock -not -name .lock 2>/dev/null | sort | xargs -r sha256sum";

/** Runs a shell command inside a node in the background (docker exec), resolving with its output. */
function nodeWatch(name: string, command: string): Promise<string> {
    // Every watcher loop ends at /tmp/fault-stop too: stopWatch() after the engine is done.
    const loop = `rm -f /tmp/fault-stop; ${command.replace(/; do /, "; do [ -e /tmp/fault-stop ] && { echo stopped-by-test; exit 0; }; ")}`;
    return new Promise((resolve) => {
        const child = spawn("docker", ["exec", name, "sh", "-c", loop], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("close", () => resolve(out.trim()));
    });
}

/** The lines of an engine run that carry the remote error. */
function errorLines(r: RunResult): string {
    return text(r)
        .split("\n")
        .filter((l) => /error|Error|No space|I\/O/.test(l) && !/^\s*$/.test(l))
        .slice(0, 4)
        .join(" / ");
}

/** Awaits an engine run, then ends its watcher. */
async function withWatch(f: Fixture, done: Promise<RunResult>, watch: Promise<string>): Promise<[RunResult, string]> {
    const r = await done;
    f.exec("touch /tmp/fault-stop");
    return [r, await watch];
}

/** Fails `up`, and returns its output. */
function failingUp(f: Fixture): RunResult {
    const r = f.stack.run(UP, true);
    assert.notEqual(r.code, 0, `the up should have failed:\n${tail(text(r))}`);
    return r;
}

/** A small tmpfs over `dir` (created if missing), keeping its files, owner and mode, then filled to the last byte. */
function fillDir(f: Fixture, dir: string, owner?: string): void {
    f.exec(`set -e; mkdir -p '${dir}'; ${owner ? `chown ${owner}:${owner} '${dir}';` : ""}
        stat=$(stat -c 'uid=%u,gid=%g,mode=%a' '${dir}'); rm -rf /root/fault-save; cp -a '${dir}' /root/fault-save
        mount -t tmpfs -o "size=64k,$stat" fault-full '${dir}'; cp -a /root/fault-save/. '${dir}/'
        dd if=/dev/zero of='${dir}/.fault-filler' bs=1k 2>/dev/null || true; sync`);
}

function freeDir(f: Fixture, dir: string): void {
    f.exec(`rm -f '${dir}/.fault-filler'`);
}

function unmount(f: Fixture, dir: string): void {
    f.exec(`if mountpoint -q '${dir}'; then umount '${dir}'; fi`);
}

/** The fault's wrapper around the daemon: it exits 1 when the config it would start with mentions "nvidia". */
function wrapDaemon(f: Fixture): void {
    const d = f.kind.daemon!;
    const cfg = f.kind.runtimeConfig!.path;
    const dropIns = f.kind.runtimeConfig!.dropIns;
    const passthrough =
        f.kind.id === "containerd" || f.kind.id === "crio"
            ? `case "\${1:-}" in config|status|version|--version|-v|--help|-h) exec ${d.binary}.fault-real "$@";; esac`
            : `case " $* " in *" --validate "*|*" --help "*|*" --version "*|*" -v "*) exec ${d.binary}.fault-real "$@";; esac`;
    f.exec(`set -e; [ -e ${d.binary}.fault-real ] || mv ${d.binary} ${d.binary}.fault-real
cat > ${d.binary} <<'EOF'
#!/bin/sh
${passthrough}
if grep -rqs nvidia ${cfg}${dropIns ? ` ${dropIns}` : ""}; then echo "fault-injection: $(basename $0) refuses to start: ${cfg} mentions nvidia" >&2; exit 1; fi
exec ${d.binary}.fault-real "$@"
EOF
chmod 755 ${d.binary}`);
}

function unwrapDaemon(f: Fixture): void {
    const b = f.kind.daemon!.binary;
    f.exec(`if [ -e ${b}.fault-real ]; then mv -f ${b}.fault-real ${b}; fi`);
}

/** The one guarded text file a kind's runtime step writes: the runtime config, its drop-in, or (CDI) the repository. */
function target(kind: Kind): string {
    return kind.runtimeConfig?.target ?? kind.runtimeConfig?.path ?? kind.repoFile;
}

/** Where the plan's runtime config write leaves its `.changed` marker: the end of that step. */
function changedMarker(kind: Kind): string {
    const file = target(kind);
    return `${backupPath(file, kind.runtimeConfig?.owner !== undefined)}.changed`;
}

/** A package whose pre-install script sleeps: installed in the background, it holds the package manager's lock. */
function holdPackageLock(f: Fixture, seconds: number): void {
    if (f.kind.pm === "apt") {
        f.exec(`set -e; rm -rf /root/slow; mkdir -p /root/slow/DEBIAN
printf 'Package: fault-slow\\nVersion: 1\\nArchitecture: all\\nMaintainer: fault <fault@localhost>\\nDescription: holds the dpkg lock\\n' > /root/slow/DEBIAN/control
printf '#!/bin/sh\\nsleep ${seconds}\\n' > /root/slow/DEBIAN/preinst; chmod 755 /root/slow/DEBIAN/preinst
dpkg-deb -b /root/slow /root/fault-slow.deb >/dev/null
nohup apt-get install -y /root/fault-slow.deb >/root/fault-slow.log 2>&1 &
until pgrep -f '[s]leep ${seconds}' >/dev/null; do sleep 0.2; done`);
    } else {
        const install =
            f.kind.pm === "zypper"
                ? "zypper --non-interactive --no-gpg-checks install -y /root/rpmbuild/RPMS/noarch/fault-slow-1-1.noarch.rpm"
                : "rpm -i --nodeps /root/rpmbuild/RPMS/noarch/fault-slow-1-1.noarch.rpm";
        f.exec(`set -e; rm -rf /root/rpmbuild; mkdir -p /root/rpmbuild/SPECS
printf 'Name: fault-slow\\nVersion: 1\\nRelease: 1\\nSummary: holds the rpm lock\\nLicense: MIT\\nBuildArch: noarch\\n%%description\\nslow\\n%%pre\\nsleep ${seconds}\\n%%files\\n' > /root/rpmbuild/SPECS/slow.spec
rpmbuild --quiet --define '_topdir /root/rpmbuild' -bb /root/rpmbuild/SPECS/slow.spec >/dev/null 2>&1
nohup ${install} >/root/fault-slow.log 2>&1 &
until pgrep -f '[s]leep ${seconds}' >/dev/null; do sleep 0.2; done`);
    }
}

/** The installed version of a package as the node's package manager sees it ("" when not installed). */
function installedPackage(f: Fixture, name: string): string {
    const query = {
        apt: `dpkg-query -W -f '\${db:Status-Abbrev}' ${name} 2>/dev/null || true`,
        dnf: `rpm -q ${name} || true`,
        zypper: `rpm --dbpath /var/lib/rpm -q ${name} || true`,
    }[f.kind.pm];
    return f.exec(query);
}

interface Fault {
    id: string;
    title: string;
    /** A string: why the fault does not apply to this kind ("not run: …" for one left out for time). */
    skip?: (kind: Kind) => string | undefined;
    /** Injects the fault, runs the engine into it and checks its own outcome; leaves the node healed. */
    run: (f: Fixture) => Promise<void>;
}

const FAULTS: Fault[] = [
    {
        id: "repo",
        title: "repository down, then back",
        run: async (f) => {
            await f.stopServer();
            const r = failingUp(f);
            assert.match(
                text(r),
                new RegExp(
                    `(could not download NVIDIA's signing key from|could not (be )?read NVIDIA's repository|repository) [^\\n]*127\\.0\\.0\\.1:${f.kind.repoPort}`,
                ),
                tail(text(r)),
            );
            f.assertIntact("repository down");
            await f.startServer();
        },
    },
    {
        id: "key",
        title: "wrong key fingerprint, then the right one",
        run: async (f) => {
            f.stack.setConfig("keyFingerprint", "0123456789ABCDEF0123456789ABCDEF01234567");
            try {
                const r = failingUp(f);
                assert.match(text(r), /not the pinned 0123456789ABCDEF0123456789ABCDEF01234567/, tail(text(r)));
                f.assertIntact("wrong fingerprint");
                const keyFile = f.kind.pm === "apt" ? APT_KEYRING : RPM_KEY;
                assert.equal(hashes(f.name, [keyFile])[keyFile], "absent", "the refused key was not installed");
            } finally {
                f.stack.setConfig("keyFingerprint", repoFingerprint("fault"));
            }
        },
    },
    {
        id: "malformed",
        title: "malformed existing config: preview fails naming file and line, nothing written",
        skip: (k) => (k.runtimeConfig ? undefined : `the ${k.pm}/CDI plan merges into no existing config (its .repo file is replaced whole)`),
        run: async (f) => {
            const cfg = f.kind.runtimeConfig!;
            const broken = cfg.path.endsWith(".json")
                ? '{\n  "bridge": "none",\n}\n'
                : 'version = 2\n[plugins."io.containerd.grpc.v1.cri"\n  sandbox_image = "x"\n';
            f.exec(`cat > ${cfg.path} <<'EOF'\n${broken}EOF`);
            try {
                const before = f.exec(STATE_FILES);
                const files = hashes(f.name, f.kind.files);
                const preview = f.stack.previewFailure();
                assert.match(
                    text(preview),
                    new RegExp(`${cfg.path.replace(/[./]/g, "\\$&")}[^\\n]*line \\d+`),
                    `the preview names the file and line:\n${tail(text(preview))}`,
                );
                const up = failingUp(f);
                assert.match(text(up), new RegExp(`${cfg.path.replace(/[./]/g, "\\$&")}[^\\n]*line \\d+`), tail(text(up)));
                assert.deepEqual(hashes(f.name, f.kind.files), files, "nothing was written");
                assert.equal(f.exec(STATE_FILES), before, "no state was written on the host");
                assert.equal(f.exec(`cat ${cfg.path}`), broken, "the malformed file was left as it was");
            } finally {
                f.exec(`cat > ${cfg.path} <<'EOF'\n${cfg.original}EOF\n${cfg.owner ? `chown ${cfg.owner}:${cfg.owner} ${cfg.path}` : ":"}`);
            }
            f.assertIntact("malformed config");
        },
    },
    {
        id: "daemon",
        title: "daemon fails with the new config: rolled back, really restarted with the old one",
        skip: (k) => (k.daemon ? undefined : "no daemon: the CDI spec is read by whoever starts a container"),
        run: async (f) => {
            const d = f.kind.daemon!;
            wrapDaemon(f);
            try {
                const pid = d.pid(f.name);
                const r = failingUp(f);
                const journal = d.journal(f.name);
                assert.match(journal, /fault-injection: .* refuses to start/, "the daemon really failed with the new config");
                f.waitActive();
                const after = d.pid(f.name);
                assert.notEqual(after, pid, `the daemon was restarted (main PID ${pid} before, ${after} after)`);
                assert.notEqual(after, "0");
                assert.equal(f.exec(`cat ${f.kind.runtimeConfig!.path}`), f.kind.runtimeConfig!.original, "the old config is back");
                // The wrapper refuses any config naming nvidia: a daemon that is up again runs the old one.
                assert.match(text(r), /previous (configuration|daemon\.json) was restored|previous files were put back/, tail(text(r)));
                assert.match(text(r), /fault-injection: .* refuses to start/, `the up's error carries the daemon's log:\n${tail(text(r))}`);
                f.assertIntact("daemon failure");
            } finally {
                unwrapDaemon(f);
            }
        },
    },
    {
        id: "backup-full",
        title: "full disk for the backup folder",
        run: async (f) => {
            const dirs = ["/var/lib/pulumi-nvidia-gpu/backup"];
            if (f.kind.runtimeConfig?.owner) dirs.push(`${f.kind.runtimeConfig.path.replace(/\/[^/]*$/, "")}/.nvidia-gpu-backup`);
            dirs.forEach((dir, i) => fillDir(f, dir, i === 1 ? f.kind.runtimeConfig?.owner : undefined));
            try {
                const r = failingUp(f);
                f.soft(/No space left on device|is .* full\?/.test(text(r)), `the error does not say the backup folder is full: ${errorLines(r)}`);
                f.assertIntact("backup folder full");
                for (const dir of dirs) freeDir(f, dir);
                f.converge();
                f.destroyRestores();
            } finally {
                for (const dir of dirs) unmount(f, dir);
            }
        },
    },
    {
        id: "target-full",
        title: "full disk for the target's folder",
        run: async (f) => {
            const file = target(f.kind);
            const dir = file.replace(/\/[^/]*$/, "");
            fillDir(f, dir);
            try {
                const r = failingUp(f);
                f.soft(/No space left on device|is .* full\?/.test(text(r)), `the error does not say the target folder is full: ${errorLines(r)}`);
                f.assertIntact("target folder full");
                freeDir(f, dir);
                f.converge();
                f.destroyRestores();
            } finally {
                unmount(f, dir);
            }
        },
    },
    {
        id: "ssh-mid-step",
        title: "SSH session killed mid-step (package install) through the engine",
        run: async (f) => {
            const pattern = {
                apt: "[a]pt-get .*install .*nvidia-container-toolkit=",
                dnf: "[d]nf -y (install|downgrade) nvidia-container-toolkit-",
                zypper: "[z]ypper .*install -y --oldpackage nvidia-container-toolkit-",
            }[f.kind.pm];
            const up = engineAsync(f.stack, UP);
            const killed = nodeWatch(
                f.name,
                `for i in $(seq 1 1800); do if pgrep -f '${pattern}' >/dev/null; then ${f.kind.pm === "apt" ? "sleep 0.3;" : ""} ps -eo pid,args | grep '[s]shd: .*@notty' >&2; pkill -f '^sshd: [a-z]+@notty'; echo killed; exit 0; fi; sleep 0.1; done; echo timeout`,
            );
            const [r, watch] = await withWatch(f, up.done, killed);
            assert.match(watch, /killed/, `the watcher saw the package install: ${watch}`);
            assert.notEqual(r.code, 0, `the up should have failed:\n${tail(text(r))}`);
            f.assertIntact("SSH cut mid-step");
        },
    },
    {
        id: "ssh-boundary",
        title: "SSH cut at a step boundary (sshd stopped after the config write; docker: for good, others: back after 8 s)",
        run: async (f) => {
            const marker = changedMarker(f.kind);
            // For good, the engine's dial retries (30) take about two minutes to give up: only on the docker node.
            const forGood = f.kind.id === "docker";
            const up = engineAsync(f.stack, UP);
            const stopped = nodeWatch(
                f.name,
                `for i in $(seq 1 6000); do if [ -e '${marker}' ]; then systemctl stop ssh; echo stopped; ${forGood ? "" : "sleep 8; systemctl start ssh; echo started;"} exit 0; fi; sleep 0.03; done; echo timeout`,
            );
            const start = Date.now();
            const [r, watch] = await withWatch(f, up.done, stopped);
            f.exec("systemctl start ssh");
            process.stdout.write(`      up exit ${r.code} after ${Math.round((Date.now() - start) / 1000)} s: ${errorLines(r).slice(0, 300)}\n`);
            assert.match(watch, /stopped/, `the watcher saw the write: ${watch}`);
            if (forGood) {
                assert.notEqual(r.code, 0, `the up should have failed:\n${tail(text(r))}`);
                assert.match(text(r), /connection refused|dial|ssh:/i, tail(text(r)));
            } else {
                assert.equal(r.code, 0, `sshd came back within the engine's dial retries, so the up should have completed:\n${tail(text(r))}`);
                assert.match(text(r), /failed: retrying|connection refused/i, "the engine retried the dial");
            }
            f.assertIntact("SSH cut at a boundary");
        },
    },
    {
        id: "pkg-lock",
        title: "package lock held by a real apt-get / rpm / zypper install",
        run: async (f) => {
            holdPackageLock(f, 30);
            const start = Date.now();
            let r: RunResult;
            try {
                r = f.stack.run(UP, true);
            } finally {
                // The next fault must not meet this holder: wait for its install to end.
                f.exec("while pgrep -f '[s]leep 30' >/dev/null; do sleep 1; done");
            }
            const seconds = (Date.now() - start) / 1000;
            assert.equal(r.code, 0, `the up should have waited for the lock and succeeded:\n${tail(text(r))}`);
            assert.match(text(r), /waiting for (apt-get|dpkg|rpm|zypper) \(\d+\) to finish/, tail(text(r)));
            const installed = installedPackage(f, "fault-slow");
            assert.match(installed, /^ii|fault-slow-1-1/, `the holder's own install completed: ${installed} (${seconds} s)`);
            f.assertIntact("package lock held");
            f.exec(
                { apt: "dpkg -P fault-slow >/dev/null", dnf: "rpm -e --nodeps fault-slow", zypper: "rpm --dbpath /var/lib/rpm -e --nodeps fault-slow" }[
                    f.kind.pm
                ],
            );
        },
    },
    {
        id: "pkg-killed",
        title: "dpkg / dnf / zypper and its rpm killed mid-transaction, then re-apply",
        run: async (f) => {
            let watch: Promise<string>;
            if (f.kind.pm === "apt") {
                // A one-shot wrapper: the first `dpkg --unpack` runs the real dpkg and kills it -9 as soon as its journal has an entry.
                f.exec(`set -e; mv /usr/bin/dpkg /usr/bin/dpkg.fault-real
cat > /usr/bin/dpkg <<'EOF'
#!/bin/sh
case " $* " in *" --unpack "*) ;; *) exec /usr/bin/dpkg.fault-real "$@";; esac
/usr/bin/dpkg.fault-real "$@" & pid=$!
n=0; while [ -z "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ] && kill -0 $pid 2>/dev/null && [ $n -lt 20000 ]; do n=$((n+1)); done
kill -9 $pid 2>/dev/null && echo "fault-injection: dpkg $pid killed mid-transaction ($(ls /var/lib/dpkg/updates | wc -l) journal entries)" >> /root/fault-dpkg.log
mv -f /usr/bin/dpkg.fault-real /usr/bin/dpkg
wait $pid; exit 137
EOF
chmod 755 /usr/bin/dpkg; rm -f /root/fault-dpkg.log`);
                watch = Promise.resolve("");
            } else {
                // The stand-in packages put their files under /usr/share/nvidia-e2e: the first one there is mid-transaction.
                // zypper runs `rpm --root / --dbpath /var/lib/rpm -U` per package: both are killed, leaving zypper's lock file.
                const victims = f.kind.pm === "dnf" ? "^/usr/bin/python3 /usr/bin/dnf|^dnf " : "^zypper |^rpm --root";
                watch = nodeWatch(
                    f.name,
                    `for i in $(seq 1 30000); do if ls /usr/share/nvidia-e2e/ 2>/dev/null | grep -q .; then ps -eo pid,args | grep -E '${victims.replace(/\^/g, "[0-9] ")}' >&2; pkill -9 -f '${victims}'; echo killed: $(ls /usr/share/nvidia-e2e/); exit 0; fi; sleep 0.01; done; echo timeout`,
                );
            }
            try {
                const up = engineAsync(f.stack, UP);
                const [r, w] = await withWatch(f, up.done, watch);
                const log = f.kind.pm === "apt" ? f.exec("cat /root/fault-dpkg.log 2>/dev/null || true") : w;
                assert.match(log, /killed/, `the package tool was killed mid-transaction: ${log}\n${tail(text(r))}`);
                const status =
                    f.kind.pm === "apt"
                        ? f.exec("dpkg-query -W -f '${db:Status-Abbrev} ${Package}\\n' 'nvidia-container-toolkit*' 'libnvidia-container*' 2>/dev/null || true")
                        : f.exec(`rpm ${f.kind.pm === "zypper" ? "--dbpath /var/lib/rpm " : ""}-qa 'nvidia-container-toolkit*' 'libnvidia-container*' || true`);
                process.stdout.write(`      up exit ${r.code}; ${log.trim()}; packages: ${status.replace(/\n/g, ", ")}\n`);
                f.assertIntact("package tool killed");
            } finally {
                if (f.kind.pm === "apt") f.exec("if [ -e /usr/bin/dpkg.fault-real ]; then mv -f /usr/bin/dpkg.fault-real /usr/bin/dpkg; fi");
            }
        },
    },
    {
        id: "concurrent",
        title: "two stacks on one host, `pulumi up` of both at once",
        run: async (f) => {
            const cfg = f.kind.runtimeConfig?.path;
            // With a runtime config the second stack also makes nvidia the default: a different write to the same file.
            // A CDI-only node has nothing to vary: both stacks write the same repository, key, packages and CDI spec.
            const other = f.newStack("other", cfg ? { setAsDefault: "true" } : {});
            const a = engineAsync(f.stack, UP);
            const b = engineAsync(other, UP);
            const [ra, rb] = await Promise.all([a.done, b.done]);
            const refused = (r: RunResult) => /changed since it was read for the preview/.test(text(r));
            process.stdout.write(
                `      first: exit ${ra.code}${refused(ra) ? " (refused: changed since read)" : ""}; second: exit ${rb.code}${refused(rb) ? " (refused: changed since read)" : ""}\n`,
            );
            for (const [label, r] of [
                ["first", ra],
                ["second", rb],
            ] as const) {
                assert.ok(r.code === 0 || refused(r), `the ${label} stack failed, but not with the clear guard error:\n${tail(text(r))}`);
            }
            assert.ok(ra.code === 0 || rb.code === 0, "at least one stack landed");
            const owned = cfg !== undefined && f.kind.runtimeConfig?.owner !== undefined;
            const guarded = target(f.kind);
            const orig = `${backupPath(guarded, owned)}.orig`;
            assert.equal(hashes(f.name, [orig])[orig], f.originals[guarded], "the one backup is the original, not either stack's write");
            if (!cfg) {
                f.assertIntact("two stacks at once");
                assert.equal(ra.code, 0, `both stacks write the same bytes: the first landed too:\n${tail(text(ra))}`);
                assert.equal(rb.code, 0, `both stacks write the same bytes: the second landed too:\n${tail(text(rb))}`);
                assert.deepEqual(hashes(f.name, f.kind.files), f.converged, "the host holds the one converged state");
                other.remove();
                f.converge();
                f.destroyRestores();
                return;
            }
            // containerd's and CRI-O's nvidia runtime lives in a drop-in (/etc/containerd/conf.d, /etc/crio/crio.conf.d).
            const dropIns = f.kind.runtimeConfig!.dropIns;
            const liveConfig = () => f.exec(`cat ${cfg}${dropIns ? ` ${dropIns}/*.toml 2>/dev/null || true` : ""}`);
            const live = liveConfig();
            const isDefault = cfg.endsWith(".json") ? JSON.parse(live)["default-runtime"] === "nvidia" : /default_runtime(_name)? = "nvidia"/.test(live);
            if (ra.code !== 0) assert.ok(isDefault, "only the second landed: its write is the one on the host");
            if (rb.code !== 0) assert.ok(!isDefault, "only the first landed: its write is the one on the host");
            // The second stack is forgotten (its resources stay on the host, owned by the first): one owner from here on.
            other.remove();
            // The first stack's render merges into what is there: after the second's write (default-runtime added), it
            // wants nothing more, so its re-apply converges on the second's bytes; destroy still restores the original.
            f.converge(f.stack, false);
            const final = liveConfig();
            assert.ok(cfg.endsWith(".json") ? JSON.parse(final).runtimes?.nvidia : /runtimes\.nvidia\]/.test(final), `the nvidia runtime is there:\n${final}`);
            f.destroyRestores();
        },
    },
];

const SELECTED = FAULTS.filter((x) => !onlyFaults || onlyFaults.includes(x.id));
const label = (x: Fault) => `${x.id}: ${x.title}`;

/**
 * One column of the matrix: a describe block for one node kind. Each kind has a spec file of its own under
 * columns/, so mocha's parallel workers (.mocharc.faults.json) run different columns at once.
 */
export function defineColumn(id: KindId): void {
    if (onlyKinds && !onlyKinds.includes(id)) return;
    const kind = KINDS[id];
    declare(["baseline: up, no-changes, destroy", ...SELECTED.map(label)], id, Object.keys(KINDS).indexOf(id));
    describe(`fault matrix: ${kind.title}`, function () {
        this.timeout(900000);
        const f = new Fixture(kind);
        before(async () => {
            await f.start();
        });
        after(() => {
            if (kind.daemon) unwrapDaemon(f);
            f.stop();
        });

        cell("baseline: up, no-changes, destroy", id, f, async () => {
            const r = f.stack.run(UP, true);
            assert.equal(r.code, 0, tail(text(r)));
            f.converged = hashes(f.name, kind.files);
            assert.notDeepEqual(f.converged, f.originals, "the up changed files");
            const clean = f.stack.expectNoChanges();
            assert.equal(clean.code, 0, tail(text(clean)));
            f.destroyRestores();
        });

        for (const fault of SELECTED) {
            cell(label(fault), id, f, async (): Promise<string | void> => {
                const why = fault.skip?.(kind);
                if (why) return why;
                assert.ok(Object.keys(f.converged).length > 0, "the baseline did not converge");
                await fault.run(f);
                // The fault healed: (1) was checked inside; now (2) and (3), unless the fault already did them.
                if (!["backup-full", "target-full", "concurrent"].includes(fault.id)) {
                    f.converge();
                    f.destroyRestores();
                }
                return undefined;
            });
        }
    });
}
