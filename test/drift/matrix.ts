import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { APT_KEYRING, APT_LIST, DNF_REPO, RPM_KEY, ZYPPER_REPO } from "../../sdk/toolkit/toolkitPlan";
import { AS_ALICE, Fixture, KINDS, Kind, KindId, UP, tail } from "../faults/harness";
import { RunResult } from "../pulumi/engine";
import { USER_PROGRAM } from "../pulumi/programs";
import { nodeExec } from "../e2e/fleet";
import { REPO_ROOT } from "../helpers/paths";
import { declare, record } from "./report";

/*
 * THE DRIFT MATRIX (issue 22). One node per kind, reused across rows: converged once, then each row drifts one managed
 * object by hand, and checks that (1) `pulumi preview` names it, (2) `pulumi up` repairs it, (3) `preview
 * --expect-no-changes` passes again, (4) nothing else on the host changed (the managed trees, the package list and the
 * holds are as after the first up). The last row destroys the stack and compares the managed trees (files, folders,
 * modes, owners), the package list and the holds with what they were before the first up. Nodes reuse the fault
 * matrix's kinds and setup (test/faults/harness.ts) under their own node names (gpu-drift-<kind>), ports (29xx, repos 189xx),
 * projects and state (.tmp/pulumi-e2e/drift-*), library build and repository copy (.tmp/drift-pkg, .tmp/drift-repo) and
 * ledger (.tmp/drift-ledger): nothing the fault matrix or the fleet's other suites use, so .ci/run runs it beside them.
 * DRIFT_KINDS=docker,dnf and DRIFT_ROWS=row ids narrow a run; DRIFT_REPORT=stdout keeps the results file.
 */

type DriftKindId = KindId | "mig";

const PORTS: Record<DriftKindId, [number, number]> = {
    docker: [2901, 18901],
    containerd: [2902, 18902],
    crio: [2903, 18903],
    rootless: [2904, 18904],
    dnf: [2905, 18905],
    zypper: [2906, 18906],
    mig: [2907, 18907],
};

const MIG_STANDIN = path.join(REPO_ROOT, "test/e2e/fleet/fakes/nvidia-smi-mig-standin");
const MIG_STATE = "/var/lib/nvidia-smi-mig-standin/state";
const MIG_INITIAL =
    "# nvidia-smi-mig-standin state (a test stand-in, not NVIDIA nvidia-smi)\ngpu 0 mig=Disabled pending=Disabled\ngpu 1 mig=Disabled pending=Disabled\n";
const MIG_DAEMON_JSON = '{\n  "bridge": "none",\n  "iptables": false,\n  "ip-masq": false\n}\n';
/** The layout the data-centre node is converged to: two 3g.71gb on GPU 0, a 2g.35gb and a 1g.18gb on GPU 1. */
const MIG_LAYOUT = {
    devices: [
        { gpus: ["0"], profiles: { "3g.71gb": 2 } },
        { gpus: ["1"], profiles: { "2g.35gb": 1, "1g.18gb": 1 } },
    ],
};

/**
 * The data-centre node of issue 22's MIG row: Docker with CDI and a declared MIG layout, on the fleet's Docker image
 * whose nvidia-smi is the MIG STAND-IN of test/pulumi/dataCentre.pulumi.ts (test/e2e/fleet/fakes/nvidia-smi-mig-standin,
 * a 2×H200 model that keeps its MIG state in a file).
 */
const MIG_KIND: Kind = {
    ...KINDS.docker,
    id: "mig",
    title: "data-centre (Docker, CDI, MIG layout; stand-in nvidia-smi)",
    setup: (name) => {
        execFileSync("docker", ["cp", MIG_STANDIN, `${name}:/usr/bin/nvidia-smi`]);
        nodeExec(
            name,
            `chmod 755 /usr/bin/nvidia-smi && mkdir -p ${path.dirname(MIG_STATE)} && cat > ${MIG_STATE} <<'DRIFT_EOF'\n${MIG_INITIAL}DRIFT_EOF
cat > /etc/docker/daemon.json <<'DRIFT_EOF'\n${MIG_DAEMON_JSON}DRIFT_EOF
systemctl restart docker && until docker info >/dev/null 2>&1; do sleep 1; done`,
        );
    },
    config: { enableCdi: "true", persistenced: "false", migLayout: JSON.stringify(MIG_LAYOUT) },
    runtimeConfig: { path: "/etc/docker/daemon.json", original: MIG_DAEMON_JSON },
};

/** The user program with `enableCdi`, `persistenced` and `migLayout` from config: Docker nodes get the CDI spec step too. */
const DRIFT_PROGRAM = USER_PROGRAM.replace("GpuNode, GpuSelection }", "GpuNode, GpuSelection, MigLayoutArgs }").replace(
    "    setAsDefault:",
    '    enableCdi: cfg.getBoolean("enableCdi") ?? false,\n    persistenced: cfg.getBoolean("persistenced"),\n    migLayout: cfg.getObject<MigLayoutArgs>("migLayout"),\n    setAsDefault:',
);

/** The fault matrix's fixture under the drift matrix's names (gpu-drift-<kind>, drift-<kind>-main) and program. */
class DriftFixture extends Fixture {
    protected override readonly suite = "drift";
    protected override readonly program = DRIFT_PROGRAM;
}

/** Where a plan leaves anything: every folder and file with mode and owner, files with their sha256. */
const TREES = [
    "/var/lib/pulumi-nvidia-gpu",
    "/run/pulumi-nvidia-gpu",
    "/run/cdi",
    "/etc/cdi",
    "/etc/nvidia-container-runtime",
    "/etc/nvidia-container-toolkit",
    "/etc/apt/sources.list.d",
    "/etc/apt/preferences.d",
    "/usr/share/keyrings",
    "/etc/yum.repos.d",
    "/etc/zypp/repos.d",
    "/etc/pki",
    "/etc/docker",
    "/etc/containerd",
    "/etc/crio",
    "/home/alice/.config/docker",
];

/** The host as the no-trace check sees it: the managed trees, the package list and the holds (and the MIG state). */
function trace(f: Fixture, withState = true): string {
    const mig = f.kind.id === "mig" ? `\necho '--- MIG'; grep -v '^#' ${MIG_STATE}` : "";
    const trees = withState ? TREES : TREES.filter((t) => t !== "/var/lib/pulumi-nvidia-gpu");
    return f.exec(`for d in ${trees.join(" ")}; do
    [ -e "$d" ] || continue
    find "$d" -printf '%M %u:%g %p\\n'
    find "$d" -type f -exec sha256sum {} +
done | grep -v '/.nvidia-gpu-backup/' | LC_ALL=C sort
echo '--- packages'
# The fleet's rpm nodes are Debian with rpm, dnf and zypper: dpkg's list, then each rpm database (the default one, where
# \`rpm --import\` puts a key, and zypper's /var/lib/rpm).
if command -v dpkg-query >/dev/null; then dpkg-query -W -f '\${Package} \${Version} \${db:Status-Abbrev}\\n' | LC_ALL=C sort; fi
if command -v rpm >/dev/null; then echo '--- rpm'; rpm -qa 2>/dev/null | LC_ALL=C sort; echo '--- rpm /var/lib/rpm'; rpm --dbpath /var/lib/rpm -qa 2>/dev/null | LC_ALL=C sort; fi
echo '--- holds'
if command -v apt-mark >/dev/null; then apt-mark showhold; fi
cat /etc/dnf/plugins/versionlock.list /etc/yum/pluginconf.d/versionlock.list /etc/zypp/locks 2>/dev/null || true${mig}`);
}

/** Fails naming every line that differs (`+` only now, `-` only before), so the results table says what was left. */
function sameTrace(now: string, before: string, message: string): void {
    if (now === before) return;
    const a = new Set(before.split("\n"));
    const b = new Set(now.split("\n"));
    const lines = [...[...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`), ...[...a].filter((l) => !b.has(l)).map((l) => `- ${l}`)];
    assert.fail(`${message}: ${lines.length > 0 ? lines.join("; ") : "the same lines in another order"}`);
}

/** One row: how a user drifts the object by hand, and what the preview must say. */
interface Row {
    id: string;
    title: string;
    /** The shell run on the node; undefined for a kind where the row does not apply (the reason instead). */
    drift: (k: Kind) => string | { na: string };
    /** What the preview's output must name. */
    shows: (k: Kind) => RegExp;
    /** Run after the cell (whatever its outcome): undo what the drift left that the plan does not manage. */
    after?: (k: Kind) => string;
}

const TOOLKIT = ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1"];
const repoFile = (k: Kind) => ({ apt: APT_LIST, dnf: DNF_REPO, zypper: ZYPPER_REPO })[k.pm];
const keyring = (k: Kind) => (k.pm === "apt" ? APT_KEYRING : RPM_KEY);
const hasCdi = (k: Kind) => k.id === "docker" || k.config.runtime === "cdi" || k.id === "rootless";
const service = (k: Kind) => ({ docker: "docker", containerd: "containerd", crio: "crio" })[k.id as string];
/** The step that restarts the runtime, which a stopped or disabled runtime's drift names. */
const restartStep = (k: Kind) => (k.id === "rootless" ? "docker-rootless-restart" : `${service(k)}-restart`);
/** The runtime's unit as the preview names it: root's unit, or alice's own (`docker (user alice)`, sdk/host/userObjects.ts). */
const unitName = (k: Kind) => (k.id === "rootless" ? "docker \\(user alice\\)" : service(k));
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

const ROWS: Row[] = [
    {
        id: "pkg-removed",
        title: "toolkit package removed by hand",
        drift: (k) =>
            ({
                apt: "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q nvidia-container-toolkit >/dev/null",
                dnf: "dnf -y -q remove nvidia-container-toolkit >/dev/null",
                zypper: "rpm --dbpath /var/lib/rpm -e --nodeps nvidia-container-toolkit",
            })[k.pm],
        shows: (k) => new RegExp(`nvidia-container-toolkit: 1\\.20\\.0-1 → not installed${k.pm === "apt" ? " \\(rc\\)" : ""}`),
    },
    {
        id: "pkg-purged",
        title: "toolkit package purged by hand",
        drift: (k) => (k.pm === "apt" ? "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q nvidia-container-toolkit >/dev/null" : { na: "purge is apt's" }),
        shows: () => /nvidia-container-toolkit: 1\.20\.0-1 → not installed(;|$| )/m,
    },
    {
        id: "pkg-other-version",
        title: "toolkit replaced by another version by hand",
        drift: (k) =>
            ({
                apt: `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades ${TOOLKIT.map((p) => `${p}=1.19.0-1`).join(" ")} >/dev/null`,
                dnf: `dnf -y -q downgrade ${TOOLKIT.map((p) => `${p}-1.19.0-1`).join(" ")} >/dev/null`,
                zypper: `zypper --non-interactive --gpg-auto-import-keys install -y --oldpackage ${TOOLKIT.map((p) => `${p}=1.19.0-1`).join(" ")} >/dev/null`,
            })[k.pm],
        shows: () => /nvidia-container-toolkit: 1\.20\.0-1 → 1\.19\.0-1/,
    },
    {
        id: "repo-deleted",
        title: "repository file deleted",
        drift: (k) => `rm -f ${repoFile(k)}`,
        shows: (k) => new RegExp(`${esc(repoFile(k))} will change`),
    },
    {
        id: "repo-edited",
        title: "repository file edited",
        drift: (k) => `printf '# edited by hand\\n' >> ${repoFile(k)}`,
        shows: (k) => new RegExp(`${esc(repoFile(k))} will change`),
    },
    {
        id: "keyring-deleted",
        title: "keyring deleted",
        drift: (k) => `rm -f ${keyring(k)}`,
        shows: (k) => new RegExp(`toolkit-key will repair drift: ${esc(keyring(k))}: sha256 [0-9a-f]+… → absent`),
    },
    {
        id: "keyring-edited",
        title: "keyring replaced",
        drift: (k) => `printf 'not a key\\n' > ${keyring(k)}`,
        shows: (k) => new RegExp(`toolkit-key will repair drift: ${esc(keyring(k))}: sha256 [0-9a-f]+… → sha256 `),
    },
    {
        id: "pins",
        title: "pins / preferences deleted or edited",
        drift: () => ({ na: "the toolkit plan pins no apt preferences (its packages step installs exact versions)" }),
        shows: () => /$^/,
    },
    {
        id: "cdi-deleted",
        title: "CDI spec deleted",
        drift: (k) => (hasCdi(k) && k.id !== "rootless" ? "rm -f /var/run/cdi/nvidia.yaml /etc/cdi/nvidia.yaml" : { na: "no CDI step on this node" }),
        shows: () => /cdi-spec will repair drift: .*(nvidia\.yaml: present → absent|listed → not listed)/,
    },
    {
        id: "cdi-other-devices",
        title: "CDI spec regenerated by hand with other devices",
        drift: (k) =>
            hasCdi(k) && k.id !== "rootless"
                ? "for f in /var/run/cdi/nvidia.yaml /etc/cdi/nvidia.yaml; do [ -e $f ] && sed -i 's/name: \"\\{0,1\\}all\"\\{0,1\\}$/name: hand-made/' $f; done; true"
                : { na: "no CDI step on this node" },
        shows: () => /cdi-spec will repair drift: .*cdi device \S+=hand-made: absent → listed/,
    },
    {
        id: "service-disabled",
        title: "runtime service disabled",
        drift: (k) =>
            k.id === "rootless"
                ? `${AS_ALICE} systemctl --user disable docker >/dev/null 2>&1`
                : service(k)
                  ? `systemctl disable ${service(k)} >/dev/null 2>&1`
                  : { na: "no runtime service (CDI only)" },
        shows: (k) => new RegExp(`${restartStep(k)} will repair drift: ${unitName(k)}: active, enabled → active, disabled`),
        after: (k) => (k.id === "rootless" ? `${AS_ALICE} systemctl --user enable docker >/dev/null 2>&1 || true` : ":"),
    },
    {
        id: "service-stopped",
        title: "runtime service stopped",
        drift: (k) =>
            k.id === "rootless"
                ? `${AS_ALICE} systemctl --user stop docker >/dev/null 2>&1`
                : service(k)
                  ? `systemctl stop ${k.id === "docker" ? "docker.socket " : ""}${service(k)} >/dev/null 2>&1`
                  : { na: "no runtime service (CDI only)" },
        shows: (k) => new RegExp(`${restartStep(k)} will repair drift: ${unitName(k)}: active, enabled → (inactive|failed), enabled`),
        after: (k) => (k.id === "docker" ? "systemctl start docker.socket" : k.id === "rootless" ? `${AS_ALICE} systemctl --user start docker || true` : ":"),
    },
    {
        id: "runtime-config-edited",
        title: "the runtime's daemon.json / drop-in edited",
        // A hand revert to the original bytes: an edit the renderer merges (a user's own key) is kept, not repaired.
        drift: (k) =>
            k.runtimeConfig
                ? k.runtimeConfig.target
                    ? `rm -f ${k.runtimeConfig.target}`
                    : `cat > ${k.runtimeConfig.path} <<'DRIFT_EOF'\n${k.runtimeConfig.original}DRIFT_EOF`
                : { na: "no runtime config (CDI only)" },
        shows: (k) => new RegExp(`${esc(k.runtimeConfig?.target ?? k.runtimeConfig?.path ?? "")} will change`),
    },
    {
        id: "mig-changed",
        title: "MIG layout changed by hand (stand-in nvidia-smi)",
        drift: (k) => (k.id === "mig" ? "nvidia-smi mig -i 0 -dci >/dev/null && nvidia-smi mig -i 0 -dgi >/dev/null" : { na: "no MIG layout" }),
        shows: () => /mig-layout will repair drift: GPU 0 instance \S+: [^\n]*3g\.71gb[^\n]* → absent/,
    },
];

const onlyKinds = process.env.DRIFT_KINDS?.split(",");
const onlyRows = process.env.DRIFT_ROWS?.split(",");
/**
 * Which rows a column takes: the apt, dnf and zypper nodes every row but MIG; the other runtimes their runtime's rows
 * (the package, repository, key and CDI rows are the same as on the Docker node); the data-centre node the MIG row.
 * Every column ends with the no-trace row.
 */
function columnRows(id: DriftKindId): string[] {
    if (id === "mig") return ["mig-changed"];
    if (["docker", "dnf", "zypper"].includes(id)) return ROWS.filter((r) => r.id !== "mig-changed").map((r) => r.id);
    return ["service-disabled", "service-stopped", "runtime-config-edited"];
}

const text = (r: RunResult) => `${r.stdout}\n${r.stderr}`;

export function defineDriftColumn(id: DriftKindId, index: number): void {
    const base = id === "mig" ? MIG_KIND : KINDS[id];
    // The Docker column has the CDI spec step too (enableCdi), so the CDI rows run on apt as well as on dnf and zypper.
    const config = id === "docker" ? { ...base.config, enableCdi: "true" } : base.config;
    const kind: Kind = { ...base, config, port: PORTS[id][0], repoPort: PORTS[id][1] };
    const rows = ROWS.filter((r) => columnRows(id).includes(r.id)).filter((r) => onlyRows === undefined || onlyRows.includes(r.id));
    const NO_TRACE = "destroy leaves no trace (full snapshot before the first up = after destroy)";
    (onlyKinds === undefined || onlyKinds.includes(id) ? describe : describe.skip)(`drift matrix: ${kind.title}`, function () {
        const f = new DriftFixture(kind);
        let pristine = "";
        let converged = "";
        // Every row the column takes, run or not (DRIFT_ROWS): a row left out shows as "not run", one it never takes as "—".
        declare([...ROWS.filter((r) => columnRows(id).includes(r.id)).map((r) => r.title), NO_TRACE], id, index);

        before(async function () {
            this.timeout(1200000);
            await f.start();
            pristine = trace(f);
            const up = f.stack.run(UP, true);
            assert.equal(up.code, 0, `the first up failed:\n${tail(text(up))}`);
            const clean = f.stack.expectNoChanges();
            assert.equal(clean.code, 0, `the first up did not converge:\n${tail(text(clean))}`);
            converged = trace(f, false);
        });
        after(() => f.stop());

        for (const row of rows) {
            it(`${row.title} [${id}]`, function () {
                const start = Date.now();
                const drift = row.drift(kind);
                if (typeof drift !== "string") {
                    record(row.title, id, { status: "n/a", detail: drift.na });
                    this.skip();
                }
                try {
                    f.exec(drift as string);
                    const preview = f.stack.run(["preview", "--diff"], true);
                    assert.equal(preview.code, 0, `preview failed:\n${tail(text(preview))}`);
                    assert.match(text(preview), row.shows(kind), `the preview does not name the drift:\n${tail(text(preview), 60)}`);
                    const noChanges = f.stack.expectNoChanges();
                    assert.notEqual(noChanges.code, 0, "preview --expect-no-changes passed on a drifted host: the engine would run nothing");
                    const up = f.stack.run(UP, true);
                    assert.equal(up.code, 0, `up did not repair it:\n${tail(text(up))}`);
                    const clean = f.stack.expectNoChanges();
                    assert.equal(clean.code, 0, `preview --expect-no-changes after the repair:\n${tail(text(clean))}`);
                    if (row.after) f.exec(row.after(kind));
                    sameTrace(trace(f, false), converged, "after the repair the host is not as after the first up");
                } catch (e) {
                    record(row.title, id, {
                        status: "failed",
                        detail: (e instanceof Error ? e.message : String(e)).split("\n")[0],
                        seconds: (Date.now() - start) / 1000,
                    });
                    if (row.after) f.exec(`${row.after(kind)} || true`);
                    throw e;
                }
                record(row.title, id, { status: "passed", detail: "", seconds: (Date.now() - start) / 1000 });
            });
        }

        it(`${NO_TRACE} [${id}]`, function () {
            const start = Date.now();
            try {
                const r = f.stack.run(["destroy", "--yes", "--skip-preview"], true);
                assert.equal(r.code, 0, `destroy failed:\n${tail(text(r))}`);
                sameTrace(trace(f), pristine, "after destroy the managed trees, packages and holds are not as before the first up");
            } catch (e) {
                record(NO_TRACE, id, {
                    status: "failed",
                    detail: (e instanceof Error ? e.message : String(e)).split("\n").slice(0, 2).join(" "),
                    seconds: (Date.now() - start) / 1000,
                });
                throw e;
            }
            record(NO_TRACE, id, { status: "passed", detail: "", seconds: (Date.now() - start) / 1000 });
        });
    });
}
