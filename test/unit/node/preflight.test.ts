import { strict as assert } from "node:assert";
import { HostFacts, parseHostFacts } from "../../../sdk/host/hostFacts";
import { PreflightIntent, preflight } from "../../../sdk/node/preflight";
import { RUNTIME_ENGINES } from "../../../sdk/runtime/registry";
import { probeFixture } from "../../helpers/paths";

const h100 = () => parseHostFacts(probeFixture("h100-ubuntu2404-root.json"));
const ids = (facts: HostFacts, intent: Partial<PreflightIntent> = {}) =>
    preflight(facts, { installDriver: false, rules: [], ...intent }).map((f) => `${f.severity}:${f.id}`);

function withDocker(facts: HostFacts, version: string, extra: Partial<NonNullable<HostFacts["docker"]>> = {}): HostFacts {
    return {
        ...facts,
        docker: {
            path: "/usr/bin/docker",
            clientVersion: version,
            serverVersion: version,
            snap: false,
            rootless: false,
            desktop: false,
            runtimes: [],
            cgroupDriver: "systemd",
            ...extra,
        },
    };
}

describe("preflight", () => {
    it("passes the real H100 host (Ubuntu 24.04, driver 580.159.04)", () => {
        assert.deepEqual(ids(h100()), []);
    });

    it("refuses an unsupported distribution and names the supported ones", () => {
        const findings = preflight(
            { ...h100(), os: { id: "gentoo", versionId: "2.17", idLike: [], prettyName: "Gentoo" } },
            { installDriver: false, rules: [] },
        );
        assert.equal(findings[0].id, "unsupported-distro");
        assert.match(findings[0].fix, /ubuntu, debian, rhel/);
    });

    it("only warns for a Debian derivative or a newer release", () => {
        assert.deepEqual(ids({ ...h100(), os: { id: "pop", versionId: "22.04", idLike: ["ubuntu", "debian"], prettyName: "Pop!_OS" } }), [
            "warning:untested-distro-version",
        ]);
        assert.deepEqual(ids({ ...h100(), os: { id: "ubuntu", versionId: "18.04", idLike: ["debian"], prettyName: "" } }), ["warning:untested-distro-version"]);
    });

    it("refuses Docker older than 18.09 and accepts 18.09", () => {
        assert.deepEqual(ids(withDocker(h100(), "18.06.3"), { rules: RUNTIME_ENGINES.docker.preflight }), ["error:docker-too-old"]);
        assert.deepEqual(ids(withDocker(h100(), "18.09.0"), { rules: RUNTIME_ENGINES.docker.preflight }), []);
    });

    it("refuses a driver older than 418.81.07 and accepts it", () => {
        const old = (v: string) => ({ ...h100(), driver: { ...h100().driver, loadedVersion: v, libraryVersion: v } });
        assert.deepEqual(ids(old("418.81.06")), ["error:driver-too-old"]);
        assert.deepEqual(ids(old("418.81.07")), []);
        assert.deepEqual(ids(old("418.113")), []);
    });

    it("skips a driver install on WSL2 and explains that the driver lives on Windows", () => {
        const wsl = parseHostFacts(probeFixture("handmade-wsl2-snap-docker.json"));
        const finding = preflight(wsl, { installDriver: true, rules: [] }).find((f) => f.id === "wsl2-driver");
        assert.equal(finding?.severity, "info");
        assert.match(finding!.message, /driver lives on the Windows host/);
    });

    it("explains snap Docker", () => {
        const wsl = parseHostFacts(probeFixture("handmade-wsl2-snap-docker.json"));
        const finding = preflight(wsl, { installDriver: false, rules: RUNTIME_ENGINES.docker.preflight }).find((f) => f.id === "snap-docker");
        assert.equal(finding?.severity, "error");
        assert.match(finding!.message, /\/var\/snap\/docker/);
    });

    it("refuses Secure Boot with a DKMS (unsigned) driver, not with signed precompiled modules", () => {
        const rocky = parseHostFacts(probeFixture("handmade-2gpu-rocky9.json"));
        assert.ok(ids(rocky, { installDriver: true }).includes("error:secure-boot-unsigned"));
        assert.ok(!ids(rocky, { installDriver: true, signedDriverModules: true }).includes("error:secure-boot-unsigned"));
    });

    it("warns of toolkit packages at mixed versions, which the plan fixes (it must not refuse that host)", () => {
        const rocky = parseHostFacts(probeFixture("handmade-2gpu-rocky9.json"));
        const finding = preflight(rocky, { installDriver: false, rules: [] }).find((f) => f.id === "toolkit-mixed-versions");
        assert.equal(finding?.severity, "warning");
        assert.match(finding!.message, /nvidia-container-toolkit-base 1\.20\.0-1/);
        assert.match(finding!.fix, /the plan installs all four at toolkit\.version/);
    });

    it("warns when a driver install is asked for and no NVIDIA GPU is there", () => {
        const noGpu = parseHostFacts(probeFixture("debian12-no-gpu.json"));
        assert.ok(ids(noGpu, { installDriver: true }).includes("warning:no-gpu"));
        assert.ok(!ids(noGpu, { installDriver: false }).includes("warning:no-gpu"));
    });

    it("warns of a driver/library mismatch (reboot pending)", () => {
        const facts = h100();
        facts.driver.libraryVersion = "580.165.01";
        assert.deepEqual(ids(facts), ["warning:driver-library-mismatch"]);
    });
});

describe("workload preflight (graphics and video)", () => {
    const { workloadPreflight } = require("../../../sdk/workloads/workloadPreflight") as typeof import("../../../sdk/workloads/workloadPreflight");
    it("finds the real H100's Vulkan, EGL, NVENC and NVDEC files: no warning for render or video workloads", () => {
        const facts = h100();
        assert.deepEqual(workloadPreflight(facts, ["graphics", "display", "utility"]), []);
        assert.deepEqual(workloadPreflight(facts, ["video", "compute", "utility"]), []);
    });
    it("warns when a graphics or video workload targets a host without them", () => {
        const noGpu = parseHostFacts(probeFixture("debian12-no-gpu.json"));
        assert.deepEqual(
            workloadPreflight(noGpu, ["graphics", "video", "utility"]).map((f) => f.id),
            ["graphics-libraries-missing", "video-libraries-missing"],
        );
        assert.deepEqual(
            workloadPreflight(noGpu, ["all"]).map((f) => f.id),
            ["graphics-libraries-missing", "video-libraries-missing"],
        );
        assert.deepEqual(workloadPreflight(noGpu, ["compute", "utility"]), []);
    });
});
