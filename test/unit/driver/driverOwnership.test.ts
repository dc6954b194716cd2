import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { GpuConfigError } from "../../../sdk/errors";
import { HostFacts, parseHostFacts } from "../../../sdk/host/hostFacts";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { NodeSpec, nodePlan } from "../../../sdk/node/nodePlan";
import { UNATTENDED_UPGRADES_BLOCK } from "../../../sdk/driver/driverPlan";
import { REPO_ROOT, probeFixture } from "../../helpers/paths";
import { runWithStandInTools } from "../../helpers/standInTools";

/** The 2×H200 VM guest as recorded (an older probe): driver 580.159.04 under /usr/local/nvidia, no package owns it. */
const h200 = (): HostFacts => parseHostFacts(probeFixture("h200x2-vm/probe.json"));
/** The same recording with the probe's driver-ownership fields as the issue 23 probe prints them (`extra`). */
const withOwnership = (extra: Record<string, string>, base = "h200x2-vm/probe.json"): HostFacts =>
    parseHostFacts(JSON.stringify({ ...JSON.parse(probeFixture(base)), ...extra }));
const snapshotOf = (facts: HostFacts): HostSnapshot => ({
    facts,
    files: { [UNATTENDED_UPGRADES_BLOCK]: undefined, "/etc/nvidia-container-runtime/config.toml": undefined },
    priorWrites: {},
    containerdDump: undefined,
});
const spec = (driver: NodeSpec["driver"]): NodeSpec => ({ runtime: "cdi", toolkit: { version: "1.20.0-1" }, driver });
const plan = (facts: HostFacts, driver: NodeSpec["driver"]) => nodePlan(snapshotOf(facts), spec(driver));
const stepNames = (facts: HostFacts, driver: NodeSpec["driver"]) =>
    plan(facts, driver)
        .plan.steps.map((s) => s.name)
        .filter((n) => n.startsWith("driver-"));
const refusal = (facts: HostFacts, driver: NodeSpec["driver"]): string => {
    try {
        plan(facts, driver);
    } catch (e) {
        assert.ok(e instanceof GpuConfigError, String(e));
        return e.message;
    }
    assert.fail(`driver ${JSON.stringify(driver)} was planned, not refused`);
};

const LIB = "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.580.95.05";
const DEBIAN_LIB = "/usr/lib/x86_64-linux-gnu/nvidia/current/libnvidia-ml.so.535.261.03";

describe("who owns the host's driver (issue 23)", () => {
    it("the recorded H200 VM: driver 580.159.04 under /usr/local/nvidia, owned by no package (inferred from the older probe)", () => {
        const o = h200().driverOwnership!;
        assert.deepEqual([o.owner, o.version, o.probed], ["no-package", "580.159.04", false]);
    });

    it("reads each owner from the probe's ownership fields: distro package, CUDA-repo package, runfile, no package, no driver", () => {
        const debian = withOwnership({
            driverLibraryPath: DEBIAN_LIB,
            driverLibraryOwner: "libnvidia-ml1 535.261.03-1~deb12u1 Debian NVIDIA Maintainers <pkg-nvidia-devel@lists.alioth.debian.org>",
            driverInstaller: "",
        }).driverOwnership!;
        assert.deepEqual([debian.owner, debian.package], ["distro-package", { name: "libnvidia-ml1", version: "535.261.03-1~deb12u1" }]);
        const cuda = withOwnership({ driverLibraryPath: LIB, driverLibraryOwner: "libnvidia-compute-580 580.95.05-0ubuntu1 cudatools <cudatools@nvidia.com>" });
        assert.equal(cuda.driverOwnership!.owner, "cuda-repo-package");
        const rpm = withOwnership({
            driverLibraryPath: "/usr/lib64/libnvidia-ml.so.580.95.05",
            driverLibraryOwner: "nvidia-driver-NVML 580.95.05-1.el9 NVIDIA Corporation",
        });
        assert.equal(rpm.driverOwnership!.owner, "cuda-repo-package");
        const runfile = withOwnership({
            driverLibraryPath: LIB,
            driverLibraryOwner: "",
            driverInstaller: "/usr/bin/nvidia-uninstall\n/usr/bin/nvidia-installer\n/var/log/nvidia-installer.log\n",
        }).driverOwnership!;
        assert.deepEqual([runfile.owner, runfile.uninstaller, runfile.probed], ["runfile", "/usr/bin/nvidia-uninstall", true]);
        const placed = withOwnership({ driverLibraryPath: "/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04", driverLibraryOwner: "", driverInstaller: "" });
        assert.deepEqual(
            [placed.driverOwnership!.owner, placed.driverOwnership!.library],
            ["no-package", "/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04"],
        );
        const none = withOwnership({ driverLibraryPath: "", driverLibraryOwner: "", driverInstaller: "" }, "debian12-no-gpu.json").driverOwnership!;
        assert.deepEqual([none.owner, none.version], ["none", undefined]);
    });

    it("the probe prints the ownership fields (run here, a host with no NVIDIA driver: owner none, read by the probe itself)", () => {
        const out = execFileSync("sh", [path.join(REPO_ROOT, "sdk/host/probe.sh")], { encoding: "utf8" });
        const raw = JSON.parse(out) as Record<string, unknown>;
        for (const key of ["driverLibraryPath", "driverLibraryOwner", "driverInstaller"]) assert.equal(typeof raw[key], "string", key);
        const o = parseHostFacts(out).driverOwnership!;
        assert.deepEqual([o.owner, o.probed], ["none", true]);
    });

    it("a host with both package databases (dpkg's tools beside rpm's): the probe asks rpm when dpkg owns nothing", () => {
        // The fleet's dnf and zypper nodes are Debian with rpm's tools, and some RHEL hosts carry dpkg for alien: the
        // package that owns libnvidia-ml, and the driver and toolkit packages, are read from whichever database has them.
        // TEST STAND-INS for dpkg-query (it owns nothing here, as on such a host) and rpm (NVIDIA's CUDA-repo packages);
        // a tmpfs over /usr/local, in the run's own mount namespace, holds the driver's library.
        const lib = "/usr/local/nvidia/lib64/libnvidia-ml.so.580.95.05";
        const r = runWithStandInTools(
            `mount -t tmpfs tmpfs /usr/local && mkdir -p ${path.dirname(lib)} && : >${lib} && ln -s ${path.basename(lib)} ${path.dirname(lib)}/libnvidia-ml.so.1 ` +
                `&& sh ${path.join(REPO_ROOT, "sdk/host/probe.sh")} >&2`,
            {
                "dpkg-query": `case "$1" in -S) echo "dpkg-query: no path found matching pattern $2" >&2; exit 1;; *) echo "dpkg-query: no packages found matching $3" >&2; exit 1;; esac`,
                rpm: [
                    `[ "$1" = -qf ] && { echo "nvidia-driver-NVML 580.95.05-1.el9 NVIDIA Corporation"; exit 0; }`,
                    `case "$*" in`,
                    `*nvidia-container-toolkit*) for p in nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1; do echo "$p 1.18.0-1 ii"; done;;`,
                    `*nvidia-driver*) echo "nvidia-driver 580.95.05-1.el9 ii"; echo "package kmod-nvidia-open-dkms is not installed"; echo "package cuda-drivers is not installed";;`,
                    `*) for p in "$@"; do case "$p" in -*|*%*|/*) ;; *) echo "package $p is not installed";; esac; done;;`,
                    `esac`,
                ].join("\n"),
            },
        );
        assert.equal(r.code, 0, r.stderr);
        const facts = parseHostFacts(r.stderr.slice(r.stderr.indexOf("{")));
        assert.deepEqual(
            [facts.driverOwnership!.owner, facts.driverOwnership!.package],
            ["cuda-repo-package", { name: "nvidia-driver-NVML", version: "580.95.05-1.el9" }],
        );
        assert.deepEqual(facts.driverPackages, { "nvidia-driver": "580.95.05-1.el9" });
        assert.equal(facts.toolkitPackages["nvidia-container-toolkit"], "1.18.0-1");
    });
});

describe("a pin on a driver no package owns (issue 23)", () => {
    it("a version the loaded driver satisfies plans no install and no reboot, and the preview says why", () => {
        const planned = plan(h200(), { version: "580.159.04" });
        const driverSteps = planned.plan.steps.filter((s) => s.name.startsWith("driver-"));
        assert.deepEqual(
            driverSteps.map((s) => s.name),
            ["driver-no-unattended-upgrades", "driver-verify"],
        );
        assert.ok(!driverSteps.some((s) => s.rebootRequired), "no driver step needs a reboot");
        const kept = planned.findings.find((f) => f.id === "driver-kept");
        assert.match(kept?.message ?? "", /^driver 580\.159\.04 \(no package owns it\) satisfies version 580\.159\.04/);
        assert.match(driverSteps[1].description, /driver 580\.159\.04 \(no package owns it\) satisfies version 580\.159\.04/);
        // Nothing is built, so missing kernel headers (the VM has none) are no concern of this plan, from any source.
        const fromCudaRepo = plan(h200(), { version: "580.159.04", source: "cuda-repo" });
        assert.ok(!fromCudaRepo.findings.some((f) => f.id === "kernel-headers-missing"), fromCudaRepo.findings.map((f) => f.id).join(","));
        assert.ok(!fromCudaRepo.plan.steps.some((s) => s.name === "driver-cuda-repo" || s.name === "driver-kernel-headers"));
    });

    it("its branch likewise: branch 580", () => {
        assert.deepEqual(stepNames(h200(), { branch: "580" }), ["driver-no-unattended-upgrades", "driver-verify"]);
        const kept = plan(h200(), { branch: "580" }).findings.find((f) => f.id === "driver-kept");
        assert.match(kept?.message ?? "", /^driver 580\.159\.04 \(no package owns it\) satisfies branch 580/);
    });

    it("a version it does not satisfy is refused at preview, naming the conflict and both ways out", () => {
        const message = refusal(h200(), { version: "570.195.03" });
        assert.match(message, /driver\.version 570\.195\.03: the host's driver 580\.159\.04 \(no package owns it\) is not version 570\.195\.03/);
        assert.match(
            message,
            /remove that driver first \(no package and no nvidia-uninstall owns it: whatever placed \/usr\/local\/nvidia\/lib64\/libnvidia-ml\.so\.580\.159\.04 must remove it\)/,
        );
        assert.match(message, /pin the loaded version: driver\.version 580\.159\.04/);
    });

    it("a branch it does not satisfy is refused too, naming driver.branch", () => {
        const message = refusal(h200(), { branch: "570" });
        assert.match(message, /driver\.branch 570: the host's driver 580\.159\.04 \(no package owns it\) is not branch 570/);
        assert.match(message, /driver\.version 580\.159\.04 \(or driver\.branch 580\)/);
    });

    it("a runfile's driver names nvidia-uninstall as the way out", () => {
        const runfile = withOwnership({ driverLibraryPath: LIB, driverLibraryOwner: "", driverInstaller: "/usr/bin/nvidia-uninstall\n" });
        assert.match(refusal(runfile, { version: "570.195.03" }), /NVIDIA's runfile installed it.*run \/usr\/bin\/nvidia-uninstall as root/);
    });

    it("other kernel modules than the loaded ones are refused (driver.kernelModules)", () => {
        assert.match(refusal(h200(), { version: "580.159.04", kernelModules: "proprietary" }), /driver\.kernelModules proprietary: .* has open kernel modules/);
        assert.deepEqual(stepNames(h200(), { version: "580.159.04", kernelModules: "open" }), ["driver-no-unattended-upgrades", "driver-verify"]);
    });

    it("a driver a package owns is updated as before, and a host without a driver gets the install", () => {
        const packaged = withOwnership({
            driverLibraryPath: LIB,
            driverLibraryOwner: "libnvidia-compute-580 580.95.05-0ubuntu0.24.04.2 Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>",
        });
        assert.ok(stepNames(packaged, { version: "570.195.03" }).includes("driver-packages"));
        const bare: HostFacts = {
            ...h200(),
            driver: { loadedVersion: undefined, libraryVersion: undefined, kernelModule: undefined },
            driverOwnership: undefined,
        };
        assert.ok(stepNames(bare, { version: "580.159.04" }).includes("driver-packages"));
    });

    it("a malformed pin is refused by its own field before it is compared with the loaded driver (fuzz finding)", () => {
        const facts = h200();
        assert.match(refusal(facts, { version: "580.159.04;reboot" }), /^driver\.version: /);
        assert.match(refusal(facts, { branch: "58$0" }), /^driver\.branch: /);
        assert.match(refusal(facts, { version: "580.159.04", kernelModules: "closed" as "open" }), /^driver\.kernelModules: /);
    });
    it("WSL2 is skipped: no driver step and no refusal (the driver lives on Windows)", () => {
        const wsl: HostFacts = { ...h200(), wsl2: true };
        assert.deepEqual(stepNames(wsl, { version: "570.195.03" }), []);
    });
});
