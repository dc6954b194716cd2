import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, startRepoServer, stopNode } from "../e2e/fleet";
import { Stack, names, stateDir, userProject } from "../pulumi/engine";
import { DRIVER_PROGRAM } from "./program";
import { Release, debCache, debianKernel, dkmsBuildReport, dkmsCcache, restoreDebs, saveDebs, setKernelRelease, startDebianNode } from "./debianNodes";

/**
 * Debian's real NVIDIA driver through the real engine (issue 23): Debian's own packages from Debian's archive, Debian's
 * kernel headers, and DKMS compiling NVIDIA's real kernel module (proprietary), on a bookworm node (destroy keeps the
 * driver) and a trixie node (destroy purges it); Debian's open modules fail to build today (below). The module cannot
 * load in a container: the nodes have no GPU and run another kernel. So the truth after `up` is "installed, not loaded:
 * reboot pending". The `uname -r` stand-in is described in debianNodes.ts.
 */
interface Case {
    release: Release;
    node: string;
    port: number;
    repoPort: number;
    version: string;
    modules: "open" | "proprietary";
    /** The DKMS package and the module name dkms status shows for it. */
    dkmsPackage: string;
    dkmsModule: RegExp;
    /** Another version Debian carries for this release, for the update preview. */
    update?: string;
    purgeOnDestroy: boolean;
}

const CASES: Case[] = [
    {
        release: "bookworm",
        node: "gpu-driver-bookworm",
        port: 2801,
        repoPort: 18801,
        version: "535.261.03",
        modules: "proprietary",
        dkmsPackage: "nvidia-kernel-dkms",
        dkmsModule: /^nvidia-current\/535\.261\.03, /m,
        update: "535.309.01",
        purgeOnDestroy: false,
    },
    {
        release: "trixie",
        node: "gpu-driver-trixie",
        port: 2802,
        repoPort: 18802,
        version: "550.163.01",
        modules: "proprietary",
        dkmsPackage: "nvidia-kernel-dkms",
        dkmsModule: /^nvidia-current\/550\.163\.01, /m,
        purgeOnDestroy: true,
    },
];

/**
 * `name version` of each installed package among `packages`: dpkg's status `i`, whatever the selection (`ii`, or `hi`
 * once apt-mark holds it), with no error flag.
 */
const installed = (node: FleetNode, packages: string) =>
    nodeExec(node.name, `dpkg-query -W -f '\${db:Status-Abbrev} \${Package} \${Version}\\n' ${packages} 2>/dev/null || true`)
        .split("\n")
        .filter((l) => /^[uihrp]i /.test(l))
        .map((l) => l.slice(3).trim())
        .sort();
/** The steps' own error lines, once each: the engine adds "error: update failed" and "error: Process exited with status N: …". */
const stepErrors = (text: string): string[] => [
    ...new Set(
        text
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l.startsWith("error: ") && !/^error: (update failed|Process exited with status)/.test(l)),
    ),
];
const holds = (node: FleetNode) => nodeExec(node.name, "apt-mark showhold").trim().split("\n").filter(Boolean).sort();

/** A step's whole stdout, as the engine keeps it in the state. */
function stepStdout(stack: Stack, step: string): string {
    const state = JSON.parse(stack.run(["stack", "export", "--show-secrets"]).stdout) as {
        deployment: { resources: Array<{ urn: string; outputs?: { stdout?: string } }> };
    };
    return state.deployment.resources.find((r) => r.urn.endsWith(`::${step}`))?.outputs?.stdout ?? "";
}

for (const c of CASES) {
    describe(`pulumi engine: Debian ${c.release}'s own driver ${c.version} (${c.modules} modules, DKMS) (issue 23)`, function () {
        this.timeout(3600000);
        let server: ChildProcess;
        let node: FleetNode;
        let stack: Stack;
        let kernel: string;
        const cache = debCache(c.release, c.version);

        before(async () => {
            server = await startRepoServer(REPO_DIR, c.repoPort);
            node = startDebianNode(c.node, c.release, c.port, dkmsCcache(c.release, c.version));
            kernel = debianKernel(node);
            restoreDebs(node, cache);
            const dir = userProject(`driver-${c.release}-${c.modules}`, DRIVER_PROGRAM);
            stack = new Stack(dir, c.release, stateDir(`driver-${c.release}-${c.modules}`));
            stack.timeoutMs = 3600000;
            stack.init(
                {
                    port: String(c.port),
                    hostKey: node.connection.hostKey!,
                    driverVersion: c.version,
                    kernelModules: c.modules,
                    driverSource: "distro",
                    purgeOnDestroy: String(c.purgeOnDestroy),
                    repoUrl: `http://127.0.0.1:${c.repoPort}`,
                    keyFingerprint: fingerprint(),
                },
                { privateKey: sshKey().privateKey },
            );
        });
        after(() => {
            if (node !== undefined) {
                try {
                    saveDebs(node, cache);
                } catch {
                    // the cache is an optimisation
                }
            }
            server?.kill();
            stopNode(c.node);
        });

        if (c.release === "bookworm" && c.modules === "proprietary") {
            it("on the node's real kernel (no Debian headers) up fails at the headers step in one line naming the package; nothing installed or held", () => {
                setKernelRelease(node, "");
                const real = nodeExec(node.name, "uname -r").trim();
                const r = stack.run(["up", "--yes", "--skip-preview"], true);
                assert.notEqual(r.code, 0, r.stdout);
                const errors = stepErrors(`${r.stdout}\n${r.stderr}`);
                assert.deepEqual(errors.length, 1, errors.join("\n"));
                assert.match(errors[0], new RegExp(`linux-headers-${real.replace(/\./g, "\\.")} is not in the configured repositories`));
                assert.deepEqual(installed(node, "nvidia-driver nvidia-kernel-dkms nvidia-open-kernel-dkms"), []);
                assert.deepEqual(holds(node), []);
                assert.equal(nodeExec(node.name, "dpkg --audit").trim(), "", "no half-configured package");
            });
        }

        it(`with uname -r naming Debian's kernel, up installs nvidia-driver ${c.version} and the headers, and DKMS builds the ${c.modules} module`, () => {
            setKernelRelease(node, kernel);
            const t0 = Date.now();
            stack.up();
            // The time a CI run pays (printed, not asserted): cold when the ccache folder is new, warm after.
            console.log(`      ${c.release}: up ${Math.round((Date.now() - t0) / 1000)} s; ${dkmsBuildReport(node, kernel)}`);
            assert.deepEqual(
                installed(node, `nvidia-driver ${c.dkmsPackage} linux-headers-${kernel}`).map((l) => l.split(" ")[0]),
                [`linux-headers-${kernel}`, c.dkmsPackage, "nvidia-driver"].sort(),
            );
            assert.match(installed(node, "nvidia-driver")[0], new RegExp(`^nvidia-driver ${c.version.replace(/\./g, "\\.")}-`));
            const dkms = nodeExec(node.name, `dkms status -k ${kernel}`);
            assert.match(dkms, c.dkmsModule, dkms);
            assert.match(dkms, /: installed/, dkms);
            const modules = nodeExec(node.name, `find /lib/modules/${kernel}/updates -name 'nvidia*.ko*' | sort`);
            assert.match(modules, /\/nvidia(-current)?\.ko/, modules);
            assert.equal(nodeExec(node.name, "dpkg --audit").trim(), "");
        });

        it("tells the truth: installed, not loaded, reboot pending; rebootPending is true", () => {
            const verify = stepStdout(stack, "gpu-driver-verify");
            assert.match(verify, new RegExp(`^installed, not loaded: reboot pending \\(driver ${c.version.replace(/\./g, "\\.")}\\)$`, "m"), verify);
            assert.match(verify, /"state":"reboot-required"/);
            assert.doesNotMatch(verify, /^ok:/m, "nothing claims a loaded driver");
            assert.match(stepStdout(stack, "gpu-driver-packages"), /^changed: driver packages installed; a reboot loads the new module$/m);
            const outputs = stack.outputs();
            assert.equal(outputs.rebootPending, true);
            assert.equal(outputs.driverVersion, c.version);
        });

        it("holds the driver (apt-mark hold), pins it in apt preferences, and keeps unattended-upgrades off it", () => {
            assert.deepEqual(holds(node), [c.dkmsPackage, "nvidia-driver"].sort());
            assert.match(nodeExec(node.name, "cat /etc/apt/apt.conf.d/51pulumi-nvidia-gpu-driver"), /Unattended-Upgrade::Package-Blacklist \{\n\s+"nvidia-";/);
            assert.match(nodeExec(node.name, "cat /etc/apt/preferences.d/pulumi-nvidia-gpu-driver"), new RegExp(`^Pin: version ${c.version}-\\*$`, "m"));
            // An upgrade moves no NVIDIA package (bookworm-security carries a newer driver).
            const upgrade = nodeExec(node.name, "apt-get -s -o Debug::NoLocking=1 dist-upgrade");
            assert.doesNotMatch(upgrade, /^Inst (lib)?nvidia-(?!container)/m, upgrade);
        });

        it("a second up changes nothing: preview --expect-no-changes passes", () => {
            const again = stack.expectNoChanges();
            assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
        });

        if (c.update !== undefined) {
            it(`a changed version (${c.update}) previews as exactly an update of the driver's steps`, () => {
                stack.setConfig("driverVersion", c.update!);
                const preview = stack.preview();
                assert.deepEqual(names(preview.steps, "create", "delete", "replace", "create-replacement", "delete-replaced"), []);
                assert.deepEqual(names(preview.steps, "update"), ["gpu-driver-apt-pin", "gpu-driver-packages", "gpu-driver-verify"]);
                stack.setConfig("driverVersion", c.version);
                assert.equal(stack.expectNoChanges().code, 0);
            });
        }

        it(
            c.purgeOnDestroy
                ? "destroy with purgeOnDestroy purges the driver and its module; the files the plan wrote are gone"
                : "destroy keeps the driver (releasing only its hold); the files the plan wrote are gone",
            () => {
                stack.destroy();
                assert.deepEqual(holds(node), []);
                assert.equal(
                    nodeExec(
                        node.name,
                        "ls /etc/apt/preferences.d/pulumi-nvidia-gpu-driver /etc/apt/apt.conf.d/51pulumi-nvidia-gpu-driver 2>/dev/null || true",
                    ),
                    "",
                );
                const left = installed(node, `nvidia-driver ${c.dkmsPackage}`).map((l) => l.split(" ")[0]);
                if (c.purgeOnDestroy) {
                    assert.deepEqual(left, []);
                    assert.doesNotMatch(nodeExec(node.name, "dkms status"), /nvidia/);
                } else {
                    assert.deepEqual(left, [c.dkmsPackage, "nvidia-driver"].sort());
                    assert.match(nodeExec(node.name, `dkms status -k ${kernel}`), c.dkmsModule);
                }
                stack.remove();
            },
        );
    });
}

/**
 * Debian's open kernel modules do not build on any kernel Debian serves today (a Debian bug, not this library's): every
 * bookworm kernel in the archive (6.1.0-53 to -57) and every trixie one (6.12.107 to .118) declares
 * pci_resize_resource(dev, i, size, exclude_bars), and nvidia-open-kernel-dkms calls it with three arguments (bookworm's
 * 535.261.03, trixie's 550.163.01), while the proprietary nvidia-kernel-dkms of the same versions builds. So this case
 * checks what a real DKMS failure does through the engine: the step fails with one error line that carries the
 * compiler's own error, and nothing is held. When Debian ships open modules that build, this case fails: move it into
 * CASES as an open-modules install.
 */
describe("pulumi engine: Debian bookworm's open modules 535.261.03 do not build on Debian's kernels today: one error line, nothing held (issue 23)", function () {
    this.timeout(3600000);
    const release: Release = "bookworm";
    const version = "535.261.03";
    const name = "gpu-driver-bookworm-open";
    let server: ChildProcess;
    let node: FleetNode;
    let stack: Stack;
    let kernel: string;
    const cache = debCache(release, version);

    before(async () => {
        server = await startRepoServer(REPO_DIR, 18807);
        node = startDebianNode(name, release, 2807, dkmsCcache(release, version));
        kernel = debianKernel(node);
        restoreDebs(node, cache);
        stack = new Stack(userProject("driver-bookworm-open", DRIVER_PROGRAM), release, stateDir("driver-bookworm-open"));
        stack.timeoutMs = 3600000;
        stack.init(
            {
                port: "2807",
                hostKey: node.connection.hostKey!,
                driverVersion: version,
                kernelModules: "open",
                driverSource: "distro",
                repoUrl: "http://127.0.0.1:18807",
                keyFingerprint: fingerprint(),
            },
            { privateKey: sshKey().privateKey },
        );
    });
    after(() => {
        server?.kill();
        stopNode(name);
    });

    it("up fails at the driver packages in one line with the compiler's error; nothing is held; destroy takes the plan's files back", () => {
        setKernelRelease(node, kernel);
        const r = stack.run(["up", "--yes", "--skip-preview"], true);
        assert.notEqual(r.code, 0, r.stdout);
        const errors = stepErrors(`${r.stdout}\n${r.stderr}`);
        assert.equal(errors.length, 1, errors.join("\n"));
        assert.match(
            errors[0],
            new RegExp(
                `^error: nvidia-driver nvidia-open-kernel-dkms did not install: DKMS could not build the NVIDIA module for kernel ${kernel.replace(/\./g, "\\.")}: nvidia/nv-pci\\.c:\\d+:\\d+: error: too few arguments to function 'pci_resize_resource' \\(see [^)]*make\\.log\\); nothing is held$`,
            ),
        );
        assert.deepEqual(holds(node), []);
        stack.destroy();
        assert.equal(
            nodeExec(node.name, "ls /etc/apt/preferences.d/pulumi-nvidia-gpu-driver /etc/apt/apt.conf.d/51pulumi-nvidia-gpu-driver 2>/dev/null || true"),
            "",
        );
        stack.remove();
    });
});
