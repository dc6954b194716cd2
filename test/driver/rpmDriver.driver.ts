import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync } from "node:child_process";
import * as path from "node:path";
import { FleetNode, NodeOptions, REPO_DIR, docker, fingerprint, nodeExec, nodeStartedAt, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { Stack, names, stateDir, userProject } from "../pulumi/engine";
import { REPO_ROOT } from "../helpers/paths";
import { DRIVER_PROGRAM } from "./program";
import { UNAME_STAND_IN } from "./debianNodes";

/**
 * The driver steps for NVIDIA's CUDA repository on dnf and zypper hosts, through the real engine (issue 23): headers,
 * the repository, the packages (a dnf module stream on RHEL 9), the hold (versionlock, addlock), verify, a no-op up, an
 * update and destroy. The nodes are Debian's dnf, zypper and rpm under a RHEL 9.4 or openSUSE Leap 15.6 os-release.
 * NVIDIA's repository cannot be reached: STAND-INS named and versioned as its packages are serve in its place
 * (test/driver/fleet/build-rpm-driver-repo.sh says what each stands for), and the `uname` stand-in of debianNodes.ts
 * names the distribution's kernel, whose stand-in headers the repository carries.
 */
const DRIVER_REPO = path.join(REPO_ROOT, ".tmp/driver-rpm-repo");
const DRIVER_REPO_PORT = 18803;

const CASES = [
    {
        manager: "dnf",
        node: "gpu-driver-dnf",
        port: 2803,
        repoPort: 18804,
        image: "gpu-e2e-rpm-driver",
        osRelease: 'ID="rhel"\\nVERSION_ID="9.4"\\nID_LIKE="fedora"\\nPLATFORM_ID="platform:el9"\\nPRETTY_NAME="Red Hat Enterprise Linux 9.4"',
        kernel: "5.14.0-427.13.1.el9_4.x86_64",
        packages: "nvidia-driver kmod-nvidia-open-dkms kernel-devel",
        installed: (v: string) => ["kernel-devel 5.14.0-427.13.1.el9_4", `kmod-nvidia-open-dkms ${v}-1.el9`, `nvidia-driver ${v}-1.el9`],
        verify: (v: string) => new RegExp(`^installed, not loaded: reboot pending \\(driver ${v.replace(/\./g, "\\.")}\\)$`, "m"),
        held: (n: FleetNode) => nodeExec(n.name, "dnf -q versionlock list 2>/dev/null || true"),
        heldPattern: (v: string) =>
            new RegExp(`nvidia-driver-3:${v.replace(/\./g, "\\.")}-1\\.el9\\.\\*[\\s\\S]*kmod-nvidia-open-dkms-3:${v.replace(/\./g, "\\.")}`),
    },
    {
        manager: "zypper",
        node: "gpu-driver-zypper",
        port: 2804,
        repoPort: 18805,
        image: "gpu-e2e-rpm",
        osRelease: 'ID="opensuse-leap"\\nVERSION_ID="15.6"\\nID_LIKE="suse opensuse"\\nPRETTY_NAME="openSUSE Leap 15.6"',
        kernel: "6.4.0-150600.21-default",
        packages: "nvidia-open-driver-G06-signed-cuda-kmp-default nvidia-compute-utils-G06 nvidia-compute-G06 kernel-default-devel",
        installed: (v: string) => [
            "kernel-default-devel 6.4.0-150600.21.1",
            `nvidia-compute-G06 ${v}-1`,
            `nvidia-compute-utils-G06 ${v}-1`,
            `nvidia-open-driver-G06-signed-cuda-kmp-default ${v}_k6.4.0_150600.21-1.1`,
        ],
        // The kmp is the kernel module; NVIDIA's user space at the kmp's version goes with it, so verify reads the library.
        verify: (v: string) => new RegExp(`^installed, not loaded: reboot pending \\(driver ${v.replace(/\./g, "\\.")}\\)$`, "m"),
        held: (n: FleetNode) => nodeExec(n.name, "zypper --non-interactive locks 2>/dev/null || true"),
        heldPattern: () => /nvidia-\*G06\*/,
    },
];

type Case = (typeof CASES)[number];

/** A node of the case's image and os-release, its one rpm database, the uname stand-in and the distribution's repository. */
function startDriverNode(c: Case, name: string, port: number, options: NodeOptions = {}): FleetNode {
    return startNode(
        name,
        c.image,
        port,
        [
            `printf '${c.osRelease}\\n' > /etc/os-release`,
            // One rpm database, at /var/lib/rpm and rpm's default, as on RHEL and SUSE. Debian's rpm defaults
            // to ~/.rpmdb (dnf's there), while its zypper writes /var/lib/rpm: the probe's `rpm -qf` then
            // found no owner for the zypper node's libnvidia-ml and preflight refused the update.
            "mkdir -p /etc/rpm && printf '%%_dbpath /var/lib/rpm\\n' > /etc/rpm/macros.e2e-dbpath && rpm --initdb",
            `printf '%s' '${UNAME_STAND_IN.replace(/'/g, "'\\''")}' > /usr/local/bin/uname`,
            "chmod 755 /usr/local/bin/uname",
            `printf '%s' '${c.kernel}' > /etc/e2e-kernel-release`,
            // The distribution's own repository (RHEL's BaseOS, SLES's base: STAND-INS), where the headers are.
            c.manager === "dnf"
                ? `mkdir -p /etc/yum.repos.d && printf '[baseos]\\nname=BaseOS (STAND-IN)\\nbaseurl=http://127.0.0.1:${DRIVER_REPO_PORT}/rhel9-baseos\\ngpgcheck=0\\n' > /etc/yum.repos.d/baseos.repo`
                : `zypper --non-interactive addrepo --no-gpgcheck http://127.0.0.1:${DRIVER_REPO_PORT}/sles15-base base >/dev/null`,
        ].join(" && "),
        options,
    );
}

/** The driver program's stack for a node: driver 580.95.05 (open modules) from the stand-in CUDA repository. */
function driverStack(c: Case, project: string, node: FleetNode, repoPort: number, extra: Record<string, string> = {}): Stack {
    const stack = new Stack(userProject(project, DRIVER_PROGRAM), c.manager, stateDir(project));
    stack.init(
        {
            port: String(node.connection.port),
            hostKey: node.connection.hostKey!,
            driverVersion: "580.95.05",
            kernelModules: "open",
            cudaRepoUrl: `http://127.0.0.1:${DRIVER_REPO_PORT}`,
            repoUrl: `http://127.0.0.1:${repoPort}`,
            keyFingerprint: fingerprint(),
            ...extra,
        },
        { privateKey: sshKey().privateKey },
    );
    return stack;
}

// The nodes' one rpm database (set up below), read by rpm as on a RHEL or SUSE host.
const rpmInstalled = (node: FleetNode, packages: string) =>
    nodeExec(node.name, `rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}\\n' ${packages} | grep -v 'not installed' || true`)
        .trim()
        .split("\n")
        .filter(Boolean)
        .sort();

function stepStdout(stack: Stack, step: string): string {
    const state = JSON.parse(stack.run(["stack", "export", "--show-secrets"]).stdout) as {
        deployment: { resources: Array<{ urn: string; outputs?: { stdout?: string } }> };
    };
    return state.deployment.resources.find((r) => r.urn.endsWith(`::${step}`))?.outputs?.stdout ?? "";
}

describe("pulumi engine: the driver from NVIDIA's CUDA repository (STAND-INS) on dnf and zypper nodes (issue 23)", function () {
    this.timeout(1800000);
    let driverRepo: ChildProcess;
    before(async () => {
        execFileSync("sh", [path.join(REPO_ROOT, "test/driver/fleet/build-rpm-driver-repo.sh"), DRIVER_REPO, String(DRIVER_REPO_PORT)], { stdio: "ignore" });
        driverRepo = await startRepoServer(DRIVER_REPO, DRIVER_REPO_PORT);
    });
    after(() => driverRepo?.kill());

    for (const c of CASES) {
        describe(`a ${c.manager} node`, () => {
            let server: ChildProcess;
            let node: FleetNode;
            let stack: Stack;
            before(async () => {
                server = await startRepoServer(REPO_DIR, c.repoPort);
                node = startDriverNode(c, c.node, c.port);
                stack = driverStack(c, `driver-${c.manager}`, node, c.repoPort);
            });
            after(() => {
                server?.kill();
                stopNode(c.node);
            });

            it("up installs the headers, the repository and the driver 580.95.05, holds it, and verify says what it found", () => {
                stack.up();
                assert.deepEqual(rpmInstalled(node, c.packages), c.installed("580.95.05").sort());
                if (c.manager === "dnf") assert.match(nodeExec(node.name, "dnf -q module list --enabled nvidia-driver 2>&1 || true"), /580-open \[e\]/);
                assert.match(c.held(node), c.heldPattern("580.95.05"));
                const verify = stepStdout(stack, "gpu-driver-verify");
                assert.match(verify, c.verify("580.95.05"), verify);
                assert.doesNotMatch(verify, /^ok:/m);
                assert.equal(stack.outputs().rebootPending, true);
            });

            it("a second up changes nothing: preview --expect-no-changes passes", () => {
                const again = stack.expectNoChanges();
                assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
            });

            it("580.105.08 previews as an update of the packages and verify steps only; up installs it, held; then no changes", () => {
                stack.setConfig("driverVersion", "580.105.08");
                const preview = stack.preview();
                assert.deepEqual(names(preview.steps, "create", "delete", "replace", "create-replacement", "delete-replaced"), []);
                assert.deepEqual(names(preview.steps, "update"), ["gpu-driver-packages", "gpu-driver-verify"]);
                stack.up();
                assert.deepEqual(rpmInstalled(node, c.packages), c.installed("580.105.08").sort());
                assert.match(c.held(node), c.heldPattern("580.105.08"));
                assert.equal(stack.expectNoChanges().code, 0);
            });

            it("destroy keeps the driver and releases its hold", () => {
                stack.destroy();
                assert.deepEqual(rpmInstalled(node, c.packages), c.installed("580.105.08").sort());
                assert.doesNotMatch(c.held(node), /nvidia/);
                stack.remove();
            });
        });
    }

    describe("reboot: true on a dnf node (the node's container restarts as a host reboots)", () => {
        const c = CASES[0];
        const name = "gpu-driver-reboot";
        let server: ChildProcess;
        let node: FleetNode;
        let stack: Stack;
        // The container's start time and restarts: a reboot of the node restarts its container (startNode's restartOnReboot).
        const boots = () => docker("inspect", "-f", "{{.State.StartedAt}} {{.RestartCount}}", name).trim();
        before(async () => {
            server = await startRepoServer(REPO_DIR, 18806);
            node = startDriverNode(c, name, 2805, { restartOnReboot: true });
            stack = driverStack(c, "driver-reboot", node, 18806, { reboot: "true" });
        });
        after(() => {
            server?.kill();
            stopNode(name);
        });

        it("up installs the driver, reboots the node once, and the steps after it run on the new boot", () => {
            const before = boots();
            nodeExec(name, "touch /run/e2e-before-reboot");
            stack.up();
            const after = boots();
            assert.notEqual(after, before, "the node restarted");
            assert.match(after, / 1$/, "exactly one restart");
            assert.match(stepStdout(stack, "gpu-driver-reboot"), /^rebooting: driver 580\.95\.05 installed, none loaded$/m);
            // /run is new at boot: the marker is gone. The journal since the container started again (it outlives the
            // restart, and its boot id is the machine's) holds the logins of the steps after the reboot.
            assert.equal(nodeExec(name, "[ -e /run/e2e-before-reboot ] && echo kept || echo gone").trim(), "gone");
            assert.match(
                nodeExec(name, `journalctl --since @${nodeStartedAt(name)} --no-pager | grep -c 'Accepted publickey for root' || true`).trim(),
                /^[1-9]/,
            );
            assert.match(stepStdout(stack, "gpu-driver-verify"), c.verify("580.95.05"));
            assert.equal(stack.outputs().rebootPending, true);
        });

        it("a second up changes nothing and does not reboot", () => {
            const before = boots();
            assert.equal(stack.expectNoChanges().code, 0);
            stack.up();
            assert.equal(boots(), before);
        });

        it("destroy keeps the driver and reboots nothing", () => {
            const before = boots();
            stack.destroy();
            assert.deepEqual(rpmInstalled(node, c.packages), c.installed("580.95.05").sort());
            assert.equal(boots(), before);
            stack.remove();
        });
    });
});
