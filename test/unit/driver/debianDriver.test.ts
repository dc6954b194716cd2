import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runWithStandInTools } from "../../helpers/standInTools";
import { driverPackages, driverPlan } from "../../../sdk/driver/driverPlan";
import { debianDriverPreferences } from "../../../sdk/driver/debianDriver";

/** Debian 12's real driver packages (non-free): nvidia-driver 535.261.03-1 and its DKMS module packages. */
const debian = (kernelModules: "open" | "proprietary", extra: Record<string, unknown> = {}) =>
    driverPlan({ distro: { id: "debian", versionId: "12" }, version: "535.261.03", source: "distro", kernelModules, ...extra });
const step = (kernelModules: "open" | "proprietary", name: string, extra: Record<string, unknown> = {}) =>
    debian(kernelModules, extra).find((s) => s.name === name)!;

/**
 * Runs a step's script with stand-ins for apt-get, apt-mark, dkms and uname on PATH (test stand-ins: they record their
 * arguments, and answer as the real tools do in the case under test). `uname -r` names a kernel with no headers here.
 */
function runWithStandIns(script: string, { aptFails = false, dkmsBuilt = true } = {}): { code: number; stderr: string; calls: string } {
    return runWithStandInTools(script, {
        "apt-get": aptFails ? 'case "$*" in *--download-only*) exit 0 ;; *install*) exit 100 ;; esac' : "exit 0",
        "apt-mark": "exit 0",
        dkms: dkmsBuilt ? 'echo "nvidia-current/535.261.03, 6.1.0-99-standin, x86_64: installed"' : "exit 0",
        uname: 'if [ "$1" = -r ]; then echo 6.1.0-99-standin; else exec /usr/bin/uname "$@"; fi',
        sleep: "exit 0",
    });
}

describe("Debian's own driver (non-free, DKMS) (issue 23)", () => {
    it("installs the kernel module package of the chosen type, pinned to the version with nvidia-driver", () => {
        assert.deepEqual(
            driverPackages({
                family: "debian",
                source: "distro",
                branch: "535",
                version: "535.261.03",
                modules: "open",
                server: true,
                packages: undefined,
                distroId: "debian",
                distroVersion: "12",
            }),
            // The GSP firmware comes with either module package (firmware-nvidia-gsp); firmware-misc-nonfree is nouveau's.
            ["nvidia-driver", "nvidia-open-kernel-dkms"],
        );
        const open = step("open", "driver-packages").script;
        assert.match(open, /'nvidia-driver=535\.261\.03\*' 'nvidia-open-kernel-dkms=535\.261\.03\*'/);
        assert.doesNotMatch(open, /firmware-misc-nonfree/);
        assert.match(step("proprietary", "driver-packages").script, /'nvidia-kernel-dkms=535\.261\.03\*'/);
    });

    it("pins both driver source packages at the version in apt preferences before installing (else apt takes bookworm-security's 535.309.01 libraries and gives up)", () => {
        const names = debian("open").map((s) => s.name);
        assert.ok(names.indexOf("driver-apt-pin") !== -1 && names.indexOf("driver-apt-pin") < names.indexOf("driver-packages"), names.join(" "));
        const pin = step("open", "driver-apt-pin");
        assert.equal(pin.files?.[0]?.path, "/etc/apt/preferences.d/pulumi-nvidia-gpu-driver");
        const text = debianDriverPreferences("535.261.03");
        assert.match(text, /^Package: src:nvidia-graphics-drivers src:nvidia-open-gpu-kernel-modules$/m);
        assert.match(text, /^Pin: version 535\.261\.03-\*$/m);
        assert.match(text, /^Pin-Priority: 1001$/m);
        assert.ok(pin.script.includes("Pin: version 535.261.03-*"), "the step writes that text");
        // apt itself parses it: an invalid record is an error on stderr.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apt-prefs-"));
        fs.mkdirSync(path.join(dir, "lists/partial"), { recursive: true });
        fs.mkdirSync(path.join(dir, "parts"));
        fs.writeFileSync(path.join(dir, "prefs"), text);
        const r = spawnSync(
            "apt-cache",
            [
                "-o",
                `Dir::Etc::Preferences=${dir}/prefs`,
                "-o",
                `Dir::Etc::PreferencesParts=${dir}/parts`,
                "-o",
                `Dir::State::Lists=${dir}/lists`,
                "-o",
                "Dir::State::status=/dev/null",
                "-o",
                `Dir::Cache=${dir}`,
                "policy",
            ],
            { encoding: "utf8" },
        );
        fs.rmSync(dir, { recursive: true, force: true });
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /^[EW]:/m);
    });

    it("holds the pinned packages once DKMS built the module, and may replace its own earlier hold (an update)", () => {
        const r = runWithStandIns(step("open", "driver-packages").script);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.calls, /apt-get .*install .*--allow-change-held-packages/);
        assert.match(r.calls, /^apt-mark hold nvidia-driver nvidia-open-kernel-dkms$/m);
    });

    it("a module DKMS did not build (no headers) fails the step with one line naming the missing package, and holds nothing", () => {
        const r = runWithStandIns(step("proprietary", "driver-packages").script, { dkmsBuilt: false });
        assert.notEqual(r.code, 0);
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(errors[0], /linux-headers-6\.1\.0-99-standin/);
        assert.doesNotMatch(r.calls, /^apt-mark hold/m);
        assert.match(r.calls, /^apt-mark unhold nvidia-driver nvidia-kernel-dkms$/m);
    });

    it("a failed install (a DKMS build error in the package's postinst) holds nothing either, and says so in one line", () => {
        const r = runWithStandIns(step("open", "driver-packages").script, { aptFails: true });
        assert.notEqual(r.code, 0);
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(errors[0], /nvidia-open-kernel-dkms/);
        assert.doesNotMatch(r.calls, /^apt-mark hold/m);
        // The install itself is not retried: a DKMS build takes minutes and fails the same way again.
        assert.equal((r.calls.match(/^apt-get (?!.*--download-only).*install -y -q/gm) ?? []).length, 1, r.calls);
    });

    it("a module that does not compile names the compiler's first error in that one line (Debian trixie's 550.163.01-2 on 6.12.118)", () => {
        // DKMS's build log as the real one ends (make.log of nvidia-current-open 550.163.01-2), under a /var/lib of its own.
        const varLib = fs.mkdtempSync(path.join(os.tmpdir(), "var-lib-"));
        const build = path.join(varLib, "dkms/nvidia-current-open/550.163.01/build");
        fs.mkdirSync(build, { recursive: true });
        fs.writeFileSync(
            path.join(build, "make.log"),
            [
                "/var/lib/dkms/nvidia-current-open/550.163.01/build/nvidia/nv-pci.c: In function 'nv_resize_pcie_bars':",
                "/var/lib/dkms/nvidia-current-open/550.163.01/build/nvidia/nv-pci.c:237:9: error: too few arguments to function 'pci_resize_resource'",
                "make[4]: *** [scripts/Makefile.build:234: nvidia/nv-pci.o] Error 1",
                "",
            ].join("\n"),
        );
        try {
            const r = runWithStandIns(`mount --bind ${varLib} /var/lib\n${step("open", "driver-packages").script}`, { aptFails: true });
            assert.notEqual(r.code, 0);
            const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
            assert.equal(errors.length, 1, r.stderr);
            assert.match(
                errors[0],
                /for kernel 6\.1\.0-99-standin: nvidia\/nv-pci\.c:237:9: error: too few arguments to function 'pci_resize_resource' \(see /,
            );
            assert.match(errors[0], /nothing is held$/);
        } finally {
            fs.rmSync(varLib, { recursive: true, force: true });
        }
    });

    it("headers Debian does not carry fail the headers step with one line naming the package", () => {
        const r = runWithStandIns(step("open", "driver-kernel-headers").script, { aptFails: true });
        assert.notEqual(r.code, 0);
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(errors[0], /linux-headers-6\.1\.0-99-standin/);
    });

    it("verify says truthfully that the driver is installed but not loaded: reboot pending", () => {
        const verify = step("open", "driver-verify").script;
        // Debian keeps the library under nvidia/current (update-alternatives); the verify reads it there.
        assert.match(verify, /\/usr\/lib\/x86_64-linux-gnu\/nvidia\/current\/libnvidia-ml\.so\.\*/);
        const r = spawnSync("sh", ["-c", verify.replace(/^library=""$/m, 'library="535.261.03"; : ')], { encoding: "utf8" });
        assert.match(r.stdout, /^installed, not loaded: reboot pending \(driver 535\.261\.03\)$/m);
        assert.match(r.stdout, /"state":"reboot-required"/);
    });

    it("destroy keeps the driver by default (only the hold goes), and purges it when driver.purgeOnDestroy is set", () => {
        const kept = step("open", "driver-packages").undoScript ?? "";
        assert.match(kept, /apt-mark unhold nvidia-driver nvidia-open-kernel-dkms/);
        assert.doesNotMatch(kept, /apt-get .*purge/);
        const purged = step("open", "driver-packages", { purgeOnDestroy: true }).undoScript ?? "";
        assert.match(purged, /apt-get .*purge -y -q nvidia-driver nvidia-open-kernel-dkms/);
    });
});
