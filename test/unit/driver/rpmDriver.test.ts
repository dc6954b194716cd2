import { strict as assert } from "node:assert";
import { runWithStandInTools } from "../../helpers/standInTools";
import { driverPlan } from "../../../sdk/driver/driverPlan";

/** NVIDIA's CUDA repository on RHEL 9 (module streams) and openSUSE Leap 15.6 (the signed kmp). */
const rhel = () => driverPlan({ distro: { id: "rhel", versionId: "9.4" }, version: "580.95.05", kernelModules: "open" });
const suse = () => driverPlan({ distro: { id: "opensuse-leap", versionId: "15.6" }, version: "580.95.05", kernelModules: "open" });
const packagesStep = (steps: ReturnType<typeof rhel>) => steps.find((s) => s.name === "driver-packages")!;

/**
 * Runs a script with TEST STAND-INS for dnf and sleep on PATH: dnf records its arguments and answers as the real one
 * does in the case under test (`versionlock`: the plugin present or not, and not installable).
 */
function runDnf(script: string, { plugin }: { plugin: boolean }): { code: number; stderr: string; calls: string } {
    return runWithStandInTools(script, {
        dnf: plugin
            ? "exit 0"
            : 'case "$*" in *"versionlock --help"*|*python3-dnf-plugin-versionlock*) exit 1 ;; *versionlock*) echo "No such command: versionlock" >&2; exit 1 ;; esac; exit 0',
        sleep: "exit 0",
    });
}

describe("the driver's hold on dnf and zypper hosts (issue 23)", () => {
    it("dnf: releases its own versionlock before installing (an update is otherwise excluded by it), then locks again", () => {
        const r = runDnf(packagesStep(rhel()).script, { plugin: true });
        assert.equal(r.code, 0, r.stderr);
        const calls = r.calls.split("\n");
        const release = calls.findIndex((l) => /^dnf versionlock delete nvidia-driver\* kmod-nvidia\*$/.test(l));
        const install = calls.findIndex((l) => /^dnf install -y nvidia-driver-580\.95\.05$/.test(l));
        const lock = calls.findIndex((l) => /^dnf versionlock add nvidia-driver\* kmod-nvidia\*$/.test(l));
        assert.ok(release !== -1 && install !== -1 && lock !== -1 && release < install && install < lock, r.calls);
    });

    it("dnf: no versionlock plugin, and none installable, fails the step in one line; it does not claim a held driver", () => {
        const r = runDnf(packagesStep(rhel()).script, { plugin: false });
        assert.notEqual(r.code, 0);
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(errors[0], /python3-dnf-plugin-versionlock/);
    });

    it("zypper locks only the driver's packages: a lock matching nvidia-container-toolkit blocks the toolkit's install", () => {
        // Seen through the real engine: "Problem: conflicting requests … remove lock to allow installation of nvidia-container-toolkit".
        const script = packagesStep(suse()).script + (packagesStep(suse()).undoScript ?? "");
        const patterns = [...script.matchAll(/zypper --non-interactive (?:addlock|removelock) ((?:'[^']+' ?)+)/g)].flatMap((m) =>
            m[1]
                .trim()
                .split(" ")
                .map((p) => p.replace(/'/g, "")),
        );
        assert.ok(patterns.length > 0, script);
        const glob = (p: string) => new RegExp(`^${p.replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`);
        for (const p of patterns) {
            for (const toolkit of ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container1", "libnvidia-container-tools"]) {
                assert.doesNotMatch(toolkit, glob(p), `lock ${p} holds ${toolkit}`);
            }
        }
        assert.ok(
            patterns.some((p) => glob(p).test("nvidia-open-driver-G06-signed-cuda-kmp-default")),
            patterns.join(" "),
        );
    });

    it("zypper installs NVIDIA's user space beside the kmp, at the kmp's driver version (nvidia-compute-utils-G06)", () => {
        // The signed kmp is the kernel module only: without nvidia-compute-G06 (libcuda, libnvidia-ml) and
        // nvidia-compute-utils-G06 (nvidia-smi) a SUSE host has a module and no driver to use it. NVIDIA's guide installs
        // the user space at the kmp's version (580.95.05 of 580.95.05_k6.4.0_150600.21). TEST STAND-IN for zypper: it
        // records its arguments and lists the kmp's versions as `zypper search -s` does.
        const table = [
            "S | Name | Type | Version | Arch | Repository",
            "--+------+------+---------+------+-----------",
            "  | nvidia-open-driver-G06-signed-cuda-kmp-default | package | 580.105.08_k6.4.0_150600.21-1.1 | x86_64 | cuda-sles15-x86_64",
            "  | nvidia-open-driver-G06-signed-cuda-kmp-default | package | 580.95.05_k6.4.0_150600.21-1.1 | x86_64 | cuda-sles15-x86_64",
        ].join("\\n");
        const r = runWithStandInTools(packagesStep(suse()).script, {
            zypper: `case "$*" in *search*) printf '${table}\\n';; esac; exit 0`,
            sleep: "exit 0",
        });
        assert.equal(r.code, 0, r.stderr);
        const install = r.calls.split("\n").filter((l) => / install /.test(l));
        assert.equal(install.length, 1, r.calls);
        assert.match(install[0], / nvidia-open-driver-G06-signed-cuda-kmp-default=580\.95\.05_k6\.4\.0_150600\.21-1\.1 nvidia-compute-utils-G06=580\.95\.05$/);
    });

    it("destroy keeps the driver and releases only its hold: dnf versionlock delete, zypper removelock", () => {
        assert.match(packagesStep(rhel()).undoScript ?? "", /dnf versionlock delete 'nvidia-driver\*' 'kmod-nvidia\*'/);
        assert.doesNotMatch(packagesStep(rhel()).undoScript ?? "", /dnf (remove|erase)/);
        assert.match(packagesStep(suse()).undoScript ?? "", /zypper --non-interactive removelock 'nvidia-\*G06\*' 'cuda-drivers\*'/);
        assert.doesNotMatch(packagesStep(suse()).undoScript ?? "", /zypper .*(remove|rm) /);
    });
});
