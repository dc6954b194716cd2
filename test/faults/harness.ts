import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { backupPath } from "../../sdk/steps/fileStep";
import { APT_KEYRING, APT_LIST, DNF_REPO, RPM_KEY, ZYPPER_REPO } from "../../sdk/toolkit/toolkitPlan";
import { CRIO_DROP_IN } from "../../sdk/runtime/crioConfig";
import { FleetNode, REPO_DIR, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { RunResult, Stack, stateDir, userProject } from "../pulumi/engine";
import { REPO_ROOT } from "../helpers/paths";
import { execFileSync } from "node:child_process";
import { USER_PROGRAM } from "../pulumi/programs";
import { record } from "./report";

/**
 * The fault matrix's harness: node kinds as the lifecycle suites start them (test/pulumi/runtimes.pulumi.ts),
 * the real engine driven synchronously and asynchronously (so a fault can be injected while `pulumi up` runs a
 * step), and the three checks every fault ends with: originals intact, re-apply converges with a clean
 * `preview --expect-no-changes`, `destroy` restores the originals byte for byte.
 */

export const SUDO_PASSWORD = "ops-sudo-pw";
const KUBEADM_CONFIG = `# managed by the platform team: do not remove this comment
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = true
`;
const DOCKER_DAEMON_JSON =
    '{\n  "log-driver": "json-file",\n  "log-opts": { "max-size": "10m", "max-file": "3" },\n  "bridge": "none",\n  "iptables": false,\n  "ip-masq": false\n}\n';
const USER_DAEMON_JSON = '{\n  "bridge": "none"\n}\n';
export const AS_ALICE = "uid=$(id -u alice); runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/$uid DOCKER_HOST=unix:///run/user/$uid/docker.sock";
const RPM_REPO_ORIGINAL = "[local]\nname=local\nbaseurl=file:///nonexistent\nenabled=0\n";
const OPENSUSE_OS_RELEASE = 'ID="opensuse-leap"\\nVERSION_ID="15.6"\\nID_LIKE="suse opensuse"\\nPRETTY_NAME="openSUSE Leap 15.6"\\n';

/** A stand-in for openSUSE's base system in the zypper node's rpm database: it provides the /bin/sh that scriptlets need. */
const RPM_BASE_PACKAGE = `set -e; mkdir -p /root/rpmbuild/SPECS
printf 'Name: fault-base\\nVersion: 1\\nRelease: 1\\nSummary: stand-in for the base system\\nLicense: MIT\\nBuildArch: noarch\\nProvides: /bin/sh\\n%%description\\nbase\\n%%files\\n' > /root/rpmbuild/SPECS/base.spec
rpmbuild --quiet --define '_topdir /root/rpmbuild' -bb /root/rpmbuild/SPECS/base.spec >/dev/null 2>&1
rpm --dbpath /var/lib/rpm -i --nodeps /root/rpmbuild/RPMS/noarch/fault-base-1-1.noarch.rpm 2>/dev/null
rpm --dbpath /var/lib/rpm -q fault-base >/dev/null
`;

/** A platform team's crio.conf on the crio node: runc as the default runtime, Debian's conmon, the vfs storage driver. */
const CRIO_CONF = `# managed by the platform team: do not remove this comment
[crio]
storage_driver = "vfs"

[crio.runtime]
default_runtime = "runc"
cgroup_manager = "cgroupfs"
conmon_cgroup = "pod"

[crio.runtime.runtimes.runc]
runtime_path = "/usr/sbin/runc"
runtime_type = "oci"
runtime_root = "/run/runc"
monitor_path = "/usr/bin/conmon"
`;
/** CRI-O's unit, as its own contrib/systemd/crio.service has it (Type=notify), for the binary tools/crio/setup.sh builds. */
const CRIO_UNIT = `[Unit]
Description=Container Runtime Interface for OCI (CRI-O), built by tools/crio/setup.sh
After=network-online.target

[Service]
Type=notify
ExecStart=/usr/local/bin/crio
ExecReload=/bin/kill -s HUP $MAINPID
Restart=on-failure
RestartSec=2
TimeoutStartSec=60

[Install]
WantedBy=multi-user.target
`;

/** Builds CRI-O, pinns and fetches conmon once per run (tools/crio/setup.sh is cached), then copies them into a node. */
let crioReady = false;
function installCrio(name: string): void {
    if (!crioReady) {
        execFileSync("sh", [path.join(REPO_ROOT, "tools/crio/setup.sh")], { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] });
        crioReady = true;
    }
    const bin = path.join(REPO_ROOT, ".tmp/bin");
    execFileSync("docker", ["cp", path.join(bin, "crio"), `${name}:/usr/local/bin/crio`]);
    execFileSync("docker", ["cp", path.join(bin, "pinns"), `${name}:/usr/local/bin/pinns`]);
    execFileSync("docker", ["cp", path.join(REPO_ROOT, ".tmp/crio-debs"), `${name}:/root/crio-debs`]);
}

const heredoc = (file: string, text: string) => `cat > ${file} <<'FAULT_EOF'\n${text}FAULT_EOF\n`;

export type KindId = "docker" | "containerd" | "crio" | "rootless" | "dnf" | "zypper";

/** One node kind of the matrix. */
export interface Kind {
    /** mig: the drift matrix's data-centre node (test/drift/matrix.ts), not a column of the fault matrix. */
    id: KindId | "mig";
    title: string;
    image: string;
    port: number;
    repoPort: number;
    setup: (name: string) => void;
    config: Record<string, string>;
    secrets?: Record<string, string>;
    /** The repository definition the toolkit plan writes (where a CDI-only node's one guarded text file is). */
    repoFile: string;
    /**
     * The runtime config the plan reads and edits (undefined: the node has no runtime config, CDI only); `target`:
     * the file the runtime step writes, where that is not `path` itself (CRI-O's drop-in: crio.conf is never edited).
     */
    runtimeConfig?: { path: string; original: string; owner?: string; target?: string; dropIns?: string };
    /** The daemon behind it: its unit, how to read its main PID and state, and the binary to wrap. */
    daemon?: { binary: string; pid: (name: string) => string; active: (name: string) => string; journal: (name: string) => string };
    /**
     * Every file whose bytes are checked: the ones the plan writes and a few it must not touch. Not the toolkit's
     * own /etc/nvidia-container-runtime/config.toml: the stand-in package's postinst creates it and purge keeps it.
     */
    files: string[];
    pm: "apt" | "dnf" | "zypper";
    /** The name of the SSH session process sshd runs for the engine's user. */
    sshSession: string;
}

export const KINDS: Record<KindId, Kind> = {
    docker: {
        id: "docker",
        title: "Docker (apt, root)",
        image: "gpu-e2e-docker",
        port: 2271,
        repoPort: 18100,
        setup: (name) =>
            nodeExec(
                name,
                `${heredoc("/etc/docker/daemon.json", DOCKER_DAEMON_JSON)}systemctl restart docker && until docker info >/dev/null 2>&1; do sleep 1; done`,
            ),
        config: {},
        repoFile: APT_LIST,
        runtimeConfig: { path: "/etc/docker/daemon.json", original: DOCKER_DAEMON_JSON },
        daemon: {
            binary: "/usr/sbin/dockerd",
            pid: (name) => nodeExec(name, "systemctl show -p MainPID --value docker").trim(),
            active: (name) => nodeExec(name, "systemctl is-active docker || true").trim(),
            journal: (name) => nodeExec(name, "journalctl -u docker --no-pager -n 200 2>/dev/null || true"),
        },
        files: [
            "/etc/docker/daemon.json",
            "/etc/apt/sources.list.d/nvidia-container-toolkit.list",
            "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg",
            "/etc/containerd/config.toml",
            "/etc/apt/sources.list",
        ],
        pm: "apt",
        sshSession: "sshd: root@notty",
    },
    containerd: {
        id: "containerd",
        title: "containerd (sudo user ops)",
        image: "gpu-e2e-docker",
        port: 2272,
        repoPort: 18101,
        setup: (name) =>
            nodeExec(
                name,
                `systemctl disable --now docker docker.socket >/dev/null 2>&1 || true; ${heredoc("/etc/containerd/config.toml", KUBEADM_CONFIG)}systemctl restart containerd`,
            ),
        config: { user: "ops", runtime: "containerd" },
        secrets: { sudoPassword: SUDO_PASSWORD },
        repoFile: APT_LIST,
        runtimeConfig: { path: "/etc/containerd/config.toml", original: KUBEADM_CONFIG, dropIns: "/etc/containerd/conf.d" },
        daemon: {
            binary: "/usr/bin/containerd",
            pid: (name) => nodeExec(name, "systemctl show -p MainPID --value containerd").trim(),
            active: (name) => nodeExec(name, "systemctl is-active containerd || true").trim(),
            journal: (name) => nodeExec(name, "journalctl -u containerd --no-pager -n 200 2>/dev/null || true"),
        },
        files: [
            "/etc/containerd/config.toml",
            "/etc/containerd/conf.d/99-nvidia.toml",
            "/etc/apt/sources.list.d/nvidia-container-toolkit.list",
            "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg",
            "/etc/docker/daemon.json",
        ],
        pm: "apt",
        sshSession: "sshd: ops@notty",
    },
    crio: {
        id: "crio",
        title: "CRI-O 1.34 (built from source, runc)",
        image: "gpu-e2e-docker",
        port: 2292,
        repoPort: 18116,
        setup: (name) => {
            installCrio(name);
            nodeExec(
                name,
                `systemctl disable --now docker docker.socket containerd >/dev/null 2>&1 || true; dpkg -i /root/crio-debs/*.deb >/dev/null
mkdir -p /etc/crio/crio.conf.d; ${heredoc("/etc/crio/crio.conf", CRIO_CONF)}${heredoc("/etc/systemd/system/crio.service", CRIO_UNIT)}systemctl daemon-reload && systemctl enable --now crio >/dev/null 2>&1 && systemctl is-active crio`,
            );
        },
        config: { runtime: "crio" },
        repoFile: APT_LIST,
        runtimeConfig: { path: "/etc/crio/crio.conf", original: CRIO_CONF, target: CRIO_DROP_IN, dropIns: "/etc/crio/crio.conf.d" },
        daemon: {
            binary: "/usr/local/bin/crio",
            pid: (name) => nodeExec(name, "systemctl show -p MainPID --value crio").trim(),
            active: (name) => nodeExec(name, "systemctl is-active crio || true").trim(),
            journal: (name) => nodeExec(name, "journalctl -u crio --no-pager -n 200 2>/dev/null || true"),
        },
        files: ["/etc/crio/crio.conf", CRIO_DROP_IN, APT_LIST, APT_KEYRING, "/etc/containerd/config.toml", "/etc/docker/daemon.json"],
        pm: "apt",
        sshSession: "sshd: root@notty",
    },
    rootless: {
        id: "rootless",
        title: "rootless Docker (alice)",
        image: "gpu-e2e-rootless",
        port: 2273,
        repoPort: 18102,
        setup: (name) => {
            nodeExec(
                name,
                "systemctl disable --now docker docker.socket >/dev/null 2>&1 || true; ln -sf /usr/bin/docker /usr/local/bin/docker && chmod 666 /dev/net/tun && loginctl enable-linger alice && until [ -S /run/user/$(id -u alice)/bus ]; do sleep 0.5; done",
            );
            nodeExec(
                name,
                `mkdir -p /home/alice/.config/docker && ${heredoc("/home/alice/.config/docker/daemon.json", USER_DAEMON_JSON)}chown -R alice:alice /home/alice/.config`,
            );
            nodeExec(
                name,
                `${AS_ALICE} sh -c 'dockerd-rootless-setuptool.sh install --skip-iptables >/tmp/rootless-setup.log 2>&1 || { tail -n 5 /tmp/rootless-setup.log >&2; exit 1; }'`,
            );
            nodeExec(name, `${AS_ALICE} sh -c 'until docker info >/dev/null 2>&1; do sleep 1; done'`);
        },
        config: { runtime: "docker-rootless", rootlessUser: "alice" },
        repoFile: APT_LIST,
        runtimeConfig: { path: "/home/alice/.config/docker/daemon.json", original: USER_DAEMON_JSON, owner: "alice" },
        daemon: {
            binary: "/usr/sbin/dockerd",
            pid: (name) => nodeExec(name, `${AS_ALICE} systemctl --user show -p MainPID --value docker`).trim(),
            active: (name) => nodeExec(name, `${AS_ALICE} systemctl --user is-active docker || true`).trim(),
            journal: (name) => nodeExec(name, `${AS_ALICE} journalctl --user -u docker --no-pager -n 200 2>/dev/null || true`),
        },
        files: [
            "/home/alice/.config/docker/daemon.json",
            "/etc/apt/sources.list.d/nvidia-container-toolkit.list",
            "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg",
            "/etc/docker/daemon.json",
        ],
        pm: "apt",
        sshSession: "sshd: root@notty",
    },
    dnf: {
        id: "dnf",
        title: "dnf (RHEL os-release, CDI)",
        image: "gpu-e2e-rpm",
        port: 2274,
        repoPort: 18103,
        setup: (name) =>
            nodeExec(
                name,
                `printf 'ID="rhel"\\nVERSION_ID="9.4"\\nID_LIKE="fedora"\\nPRETTY_NAME="Red Hat Enterprise Linux 9.4"\\n' > /etc/os-release; mkdir -p /etc/yum.repos.d; ${heredoc(DNF_REPO, RPM_REPO_ORIGINAL)}`,
            ),
        config: { runtime: "cdi" },
        repoFile: DNF_REPO,
        files: [DNF_REPO, RPM_KEY, "/etc/os-release"],
        pm: "dnf",
        sshSession: "sshd: root@notty",
    },
    zypper: {
        id: "zypper",
        title: "zypper (openSUSE os-release, CDI)",
        image: "gpu-e2e-rpm",
        port: 2291,
        repoPort: 18115,
        // Debian's zypper and rpm (libzypp runs `rpm -U` per package, against /var/lib/rpm) under an openSUSE os-release.
        // The rpm database starts with one base package, as a real openSUSE's is never empty: with none left after a
        // remove, Debian's libzypp fails to cache it ("Failed to cache rpm database") and zypper exits non-zero.
        setup: (name) =>
            nodeExec(
                name,
                `printf '${OPENSUSE_OS_RELEASE}' > /etc/os-release; mkdir -p /etc/zypp/repos.d; ${heredoc(ZYPPER_REPO, RPM_REPO_ORIGINAL)}${RPM_BASE_PACKAGE}`,
            ),
        config: { runtime: "cdi" },
        repoFile: ZYPPER_REPO,
        files: [ZYPPER_REPO, RPM_KEY, "/etc/os-release"],
        pm: "zypper",
        sshSession: "sshd: root@notty",
    },
};

/** Which matrix a run belongs to: its word in node, project and folder names (`fault`, `drift`). */
export type MatrixSuite = "fault" | "drift";

/**
 * A matrix run's own folders under .tmp: `<suite>-pkg`, the library's build, and `<suite>-repo`, its copy of the
 * loopback repository. The fault and drift matrices each keep their own, so the two can run side by side (.ci/run runs
 * them in different lanes) without one's global setup rebuilding or replacing what the other's nodes are using.
 */
export function runDirs(suite: MatrixSuite): { pkg: string; repo: string } {
    return { pkg: path.join(REPO_ROOT, `.tmp/${suite}-pkg`), repo: path.join(REPO_ROOT, `.tmp/${suite}-repo`) };
}

/**
 * The library as the user programs import it: its own build in the run's package folder (package.json points at
 * dist/), made once per run, so another engineer's `npm run build` (which empties dist/ first) cannot break a stack
 * in the middle of the matrix.
 */
const packageBuilt = new Set<MatrixSuite>();
export function ensurePackage(suite: MatrixSuite): string {
    const dir = runDirs(suite).pkg;
    // Built once by the run's global setup (report.ts) before mocha's parallel workers start: they only use it.
    if (packageBuilt.has(suite) || (process.env.MATRIX_PACKAGE_READY === dir && fs.existsSync(path.join(dir, "package.json")))) return dir;
    fs.rmSync(dir, { recursive: true, force: true });
    try {
        execFileSync(
            path.join(REPO_ROOT, "node_modules/.bin/tsc"),
            ["-p", "tsconfig.build.json", "--outDir", path.join(dir, "dist"), "--declaration", "false", "--declarationMap", "false", "--sourceMap", "false"],
            { cwd: REPO_ROOT, stdio: "pipe" },
        );
    } catch {
        // type errors in other people's work in progress: tsc still emitted the JavaScript
    }
    assert.ok(fs.existsSync(path.join(dir, "dist/index.js")), `the library was built into ${dir}`);
    fs.mkdirSync(path.join(dir, "dist/sdk/host"), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, "sdk/host/probe.sh"), path.join(dir, "dist/sdk/host/probe.sh"));
    fs.copyFileSync(path.join(REPO_ROOT, "package.json"), path.join(dir, "package.json"));
    packageBuilt.add(suite);
    return dir;
}

/**
 * The run's own copy of the fleet's loopback repository (hard links to the files of one build): the fleet's
 * .tmp/e2e-repo is a link that a rebuild switches to a new build with a new signing key, which would change
 * the key under a running matrix. Made by the run's global setup (report.ts), before the workers start.
 */
export function snapshotRepo(suite: MatrixSuite): void {
    const dir = runDirs(suite).repo;
    fs.rmSync(dir, { recursive: true, force: true });
    execFileSync("cp", ["-al", `${fs.realpathSync(REPO_DIR)}/.`, dir]);
    assert.ok(fs.existsSync(path.join(dir, "fingerprint")), `${dir} holds a repository build`);
}

/**
 * What a matrix run shares, made once by its global setup before mocha's parallel workers start: the library's
 * build, the fleet's SSH key and the run's copy of the loopback repository, all in the run's own folders.
 */
export function prepareRun(suite: MatrixSuite): void {
    const dir = ensurePackage(suite);
    sshKey();
    snapshotRepo(suite);
    process.env.MATRIX_PACKAGE_READY = dir;
}

/** The signing key's fingerprint of the run's repository copy. */
export function repoFingerprint(suite: MatrixSuite): string {
    const dir = runDirs(suite).repo;
    if (!fs.existsSync(path.join(dir, "fingerprint"))) snapshotRepo(suite);
    return fs.readFileSync(path.join(dir, "fingerprint"), "utf8").trim();
}

/** sha256 of each file on the node, or "absent". */
export function hashes(name: string, files: string[]): Record<string, string> {
    const out = nodeExec(
        name,
        files
            .map((f) => `if [ -e '${f}' ]; then printf '%s %s\\n' "$(sha256sum < '${f}' | cut -d ' ' -f 1)" '${f}'; else printf 'absent %s\\n' '${f}'; fi`)
            .join("\n"),
    );
    const result: Record<string, string> = {};
    for (const line of out.trim().split("\n")) {
        const i = line.indexOf(" ");
        result[line.slice(i + 1)] = line.slice(0, i);
    }
    return result;
}

/** The engine as a child process, for faults injected while it runs. */
export function engineAsync(stack: Stack, args: string[]): { child: ChildProcess; done: Promise<RunResult> } {
    const argv = [...args, "--stack", stack.name, "--non-interactive"];
    const child = spawn("pulumi", argv, { cwd: stack.dir, env: stack.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const done = new Promise<RunResult>((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
    return { child, done };
}

export const UP = ["up", "--yes", "--skip-preview", "--diff"];

/** A node of one kind with its repository server and stack; the state each fault starts from and returns to. */
export class Fixture {
    node!: FleetNode;
    stack!: Stack;
    server: ChildProcess | undefined;
    originals: Record<string, string> = {};
    converged: Record<string, string> = {};
    private extraStacks: Stack[] = [];

    constructor(readonly kind: Kind) {}

    get name(): string {
        return `gpu-${this.suite}-${this.kind.id}`;
    }

    exec(command: string): string {
        return nodeExec(this.name, command);
    }

    async start(): Promise<void> {
        await this.startServer();
        this.node = startNode(this.name, this.kind.image, this.kind.port);
        this.kind.setup(this.name);
        if (this.kind.runtimeConfig) assert.equal(this.exec(`cat ${this.kind.runtimeConfig.path}`), this.kind.runtimeConfig.original);
        this.originals = hashes(this.name, this.kind.files);
        this.stack = this.newStack("main");
    }

    /** The suite's word in node, project, stack and folder names (`fault`: gpu-fault-docker, fault-docker-main, .tmp/fault-pkg), and the user program it runs. */
    protected readonly suite: MatrixSuite = "fault";
    protected readonly program: string = USER_PROGRAM;

    newStack(suffix: string, config: Record<string, string> = {}): Stack {
        const project = `${this.suite}-${this.kind.id}-${suffix}`;
        const dir = userProject(project, this.program);
        const link = path.join(dir, "node_modules", "pulumi-nvidia-gpu");
        fs.rmSync(link);
        fs.symlinkSync(ensurePackage(this.suite), link);
        const stack = new Stack(dir, this.suite, stateDir(project));
        stack.init(
            {
                host: "127.0.0.1",
                port: String(this.kind.port),
                hostKey: this.node.connection.hostKey!,
                toolkitVersion: "1.20.0-1",
                repoUrl: `http://127.0.0.1:${this.kind.repoPort}`,
                keyFingerprint: repoFingerprint(this.suite),
                ...this.kind.config,
                ...config,
            },
            { privateKey: sshKey().privateKey, ...this.kind.secrets },
        );
        if (suffix !== "main") this.extraStacks.push(stack);
        return stack;
    }

    async startServer(): Promise<void> {
        if (this.server && this.server.exitCode === null && !this.server.killed) return;
        repoFingerprint(this.suite);
        this.server = await startRepoServer(runDirs(this.suite).repo, this.kind.repoPort);
    }

    async stopServer(): Promise<void> {
        const s = this.server;
        this.server = undefined;
        if (!s || s.exitCode !== null) return;
        await new Promise<void>((resolve) => {
            s.once("exit", () => resolve());
            s.kill();
        });
    }

    stop(): void {
        this.server?.kill();
        for (const s of [this.stack, ...this.extraStacks]) {
            if (!s) continue;
            try {
                s.run(["destroy", "--yes", "--skip-preview"], true);
            } catch {
                // best effort
            }
            s.remove();
        }
        stopNode(this.name);
    }

    /** Checks that do not stop the fault's run: the structural checks still run, and the cell fails at its end. */
    softFailures: string[] = [];

    soft(ok: boolean, message: string): void {
        if (!ok) this.softFailures.push(message);
    }

    /**
     * After a failed cell: puts the node back to its originals by hand (mounts, wrappers, the stack's state,
     * packages, backups) so that the next fault starts clean and its outcome is its own.
     */
    reset(): void {
        const pkgs = "nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1";
        const b = this.kind.daemon?.binary;
        this.exec(`grep ' fault-full ' /proc/mounts >/dev/null 2>&1; awk '$1 == "fault-full" { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount || true
${b ? `if [ -e ${b}.fault-real ]; then mv -f ${b}.fault-real ${b}; fi` : ":"}
if [ -e /usr/bin/dpkg.fault-real ]; then mv -f /usr/bin/dpkg.fault-real /usr/bin/dpkg; fi
systemctl start ssh || true`);
        this.stack.run(["destroy", "--yes", "--skip-preview"], true);
        this.stack.remove();
        this.stack = this.newStack("main");
        const cfg = this.kind.runtimeConfig;
        this.exec(
            [
                this.kind.pm === "apt"
                    ? `dpkg --configure -a >/dev/null 2>&1 || true; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ${pkgs} fault-slow >/dev/null 2>&1 || dpkg -P ${pkgs} fault-slow >/dev/null 2>&1 || true`
                    : this.kind.pm === "dnf"
                      ? `dnf -y remove ${pkgs} >/dev/null 2>&1 || rpm -e --nodeps ${pkgs} >/dev/null 2>&1 || true; rpm -e --nodeps fault-slow >/dev/null 2>&1 || true`
                      : `rm -f /run/zypp.pid; rpm --dbpath /var/lib/rpm -e --nodeps ${pkgs} fault-slow >/dev/null 2>&1 || rpm --dbpath /var/lib/rpm -e --nodeps ${pkgs} >/dev/null 2>&1 || true`,
                "rm -rf /var/lib/pulumi-nvidia-gpu",
                ...this.kind.files.filter((f) => this.originals[f] === "absent").map((f) => `rm -f '${f}'`),
                cfg
                    ? `rm -rf '${path.dirname(cfg.path)}/.nvidia-gpu-backup'; cat > ${cfg.path} <<'FAULT_EOF'\n${cfg.original}FAULT_EOF\n${cfg.owner ? `chown ${cfg.owner}:${cfg.owner} ${cfg.path}` : ":"}`
                    : ":",
            ].join("\n"),
        );
        if (this.kind.id === "docker") this.exec("systemctl reset-failed docker; systemctl restart docker");
        if (this.kind.id === "containerd") this.exec("systemctl reset-failed containerd; systemctl restart containerd");
        if (this.kind.id === "crio") this.exec(`rm -f ${CRIO_DROP_IN}; systemctl reset-failed crio; systemctl restart crio`);
        if (this.kind.id === "rootless") this.exec(`${AS_ALICE} sh -c 'systemctl --user reset-failed docker; systemctl --user restart docker'`);
        assert.deepEqual(hashes(this.name, this.kind.files), this.originals, "the reset after a failed fault put the originals back");
    }

    /** (1) Every checked file is either its original or its converged bytes, every backup is the original, no temp file is left. */
    assertIntact(context: string): void {
        const now = hashes(this.name, this.kind.files);
        for (const f of this.kind.files) {
            const allowed = [this.originals[f], this.converged[f]].filter(Boolean);
            assert.ok(
                allowed.includes(now[f]),
                `${context}: ${f} is neither its original (${this.originals[f]}) nor its converged bytes (${this.converged[f]}): ${now[f]}`,
            );
        }
        for (const f of this.kind.files) {
            if (this.originals[f] === "absent") continue;
            const backup = `${backupPath(f, this.kind.runtimeConfig?.owner !== undefined && f === this.kind.runtimeConfig.path)}.orig`;
            const sum = hashes(this.name, [backup])[backup];
            if (sum !== "absent") assert.equal(sum, this.originals[f], `${context}: the backup ${backup} is not the original of ${f}`);
        }
        const dirs = [...new Set(this.kind.files.map((f) => path.dirname(f)))];
        const leftovers = this.exec(`find ${dirs.join(" ")} -maxdepth 1 -name '*.nvidia-gpu.*' 2>/dev/null || true`).trim();
        assert.equal(leftovers, "", `${context}: temp files left behind`);
    }

    /** (2) `pulumi up` converges and `preview --expect-no-changes` passes. */
    converge(stack: Stack = this.stack, exact = true): void {
        const up = stack.run(UP, true);
        assert.equal(up.code, 0, `the re-apply did not converge:\n${tail(up.stdout)}\n${tail(up.stderr)}`);
        const clean = stack.expectNoChanges();
        assert.equal(clean.code, 0, `preview --expect-no-changes after the re-apply:\n${tail(clean.stdout)}\n${tail(clean.stderr)}`);
        if (exact && Object.keys(this.converged).length > 0) {
            assert.deepEqual(hashes(this.name, this.kind.files), this.converged, "the re-apply gave the converged bytes");
        }
    }

    /** (3) `pulumi destroy` restores every original byte for byte. */
    destroyRestores(stack: Stack = this.stack): void {
        const r = stack.run(["destroy", "--yes", "--skip-preview"], true);
        assert.equal(r.code, 0, `destroy failed:\n${tail(r.stdout)}\n${tail(r.stderr)}`);
        assert.deepEqual(hashes(this.name, this.kind.files), this.originals, "destroy restored every original byte for byte");
        if (this.kind.daemon) this.waitActive();
    }

    waitActive(): void {
        for (let i = 0; i < 60; i++) {
            if (this.kind.daemon!.active(this.name) === "active") return;
            this.exec("sleep 1");
        }
        assert.fail(`${this.name}: the daemon is not active: ${this.kind.daemon!.active(this.name)}`);
    }

    /** The last ~40 lines of an engine run's output. */
    static text(r: RunResult): string {
        return `${r.stdout}\n${r.stderr}`;
    }
}

export function tail(text: string, n = 40): string {
    return text.split("\n").slice(-n).join("\n");
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** One cell of the matrix: an `it` whose outcome is recorded. `run` returns a string for "not applicable". */
export function cell(fault: string, kind: KindId, f: Fixture, run: () => Promise<string | void> | string | void): void {
    it(`${fault} [${kind}]`, async function () {
        const start = Date.now();
        let result: string | void;
        f.softFailures = [];
        try {
            result = await run();
            if (f.softFailures.length > 0) throw new Error(f.softFailures.join("; "));
        } catch (e) {
            const message = e instanceof Error ? e.message : String(e);
            record(fault, kind, { status: "failed", detail: message.split("\n").slice(0, 3).join(" "), seconds: (Date.now() - start) / 1000 });
            try {
                f.reset();
            } catch (r) {
                process.stdout.write(`      the reset after the failure failed too: ${r instanceof Error ? r.message.split("\n")[0] : String(r)}\n`);
            }
            throw e;
        }
        if (typeof result === "string") {
            const notRun = result.startsWith("not run: ");
            record(fault, kind, { status: notRun ? "not run" : "n/a", detail: notRun ? result.slice(9) : result });
            this.skip();
        }
        record(fault, kind, { status: "passed", detail: "", seconds: (Date.now() - start) / 1000 });
    });
}

export function writeFile(file: string, text: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
}
