import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { HostFacts, parseHostFacts } from "../../../sdk/host/hostFacts";
import { PreflightIntent, preflight } from "../../../sdk/node/preflight";
import { RUNTIME_ENGINES } from "../../../sdk/runtime/registry";
import { probeFixture } from "../../helpers/paths";

const h100 = () => parseHostFacts(probeFixture("h100-ubuntu2404-root.json"));
const dockerHost = () => parseHostFacts(fs.readFileSync(path.join(__dirname, "../../../examples/hosts/gpu-docker-1.probe.json"), "utf8"));
const containerdHost = () => parseHostFacts(fs.readFileSync(path.join(__dirname, "../../../examples/hosts/gpu-k8s-1.probe.json"), "utf8"));
const findings = (facts: HostFacts, intent: Partial<PreflightIntent>) => preflight(facts, { installDriver: false, rules: [], ...intent });
const ids = (facts: HostFacts, intent: Partial<PreflightIntent>) => findings(facts, intent).map((f) => `${f.severity}:${f.id}`);

describe("preflight (issue 13): errors before any write", () => {
    it("refuses a runtime whose binary the host lacks: docker, containerd, crio", () => {
        assert.deepEqual(ids(h100(), { rules: RUNTIME_ENGINES.docker.preflight }), ["error:runtime-missing"]);
        assert.deepEqual(ids(dockerHost(), { rules: RUNTIME_ENGINES.containerd.preflight }), ["error:runtime-missing"]);
        assert.deepEqual(ids(containerdHost(), { rules: RUNTIME_ENGINES.crio.preflight }), ["error:runtime-missing"]);
        assert.match(findings(h100(), { rules: RUNTIME_ENGINES.docker.preflight })[0].message, /no docker binary was found/);
        assert.deepEqual(ids(dockerHost(), { rules: RUNTIME_ENGINES.docker.preflight }), []);
        assert.deepEqual(ids(containerdHost(), { rules: RUNTIME_ENGINES.containerd.preflight }), []);
        assert.deepEqual(ids(h100(), { rules: RUNTIME_ENGINES.cdi.preflight }), []);
    });

    it("refuses a pinned driver.version below 418.81.07 (NVIDIA's minimum), and a branch below 418", () => {
        const pin = (driver: PreflightIntent["driver"]) => ids(dockerHost(), { installDriver: true, driver });
        assert.ok(pin({ version: "410.48" }).includes("error:driver-pin-too-old"));
        assert.ok(pin({ version: "418.81.06" }).includes("error:driver-pin-too-old"));
        assert.ok(!pin({ version: "418.81.07" }).includes("error:driver-pin-too-old"));
        assert.ok(pin({ branch: "410" }).includes("error:driver-pin-too-old"));
        assert.ok(!pin({ branch: "580" }).includes("error:driver-pin-too-old"));
        assert.match(
            findings(dockerHost(), { installDriver: true, driver: { version: "410.48" } }).find((f) => f.id === "driver-pin-too-old")!.message,
            /driver\.version 410\.48 is older than 418\.81\.07/,
        );
    });

    it("an old loaded driver is only a warning when the plan installs a pinned one (it replaces it)", () => {
        const old = { ...dockerHost(), driver: { loadedVersion: "410.48", libraryVersion: "410.48", kernelModule: "proprietary" as const } };
        assert.ok(ids(old, {}).includes("error:driver-too-old"));
        assert.ok(ids(old, { installDriver: true, driver: { branch: "580" } }).includes("warning:driver-too-old"));
    });

    it("refuses a host without systemd when a runtime restart is needed, not when none is", () => {
        assert.equal(h100().systemd, false);
        const noSystemd = { ...dockerHost(), systemd: false };
        assert.deepEqual(ids(noSystemd, { rules: RUNTIME_ENGINES.docker.preflight, restarts: ["docker"] }), ["error:no-systemd"]);
        assert.deepEqual(ids(noSystemd, { rules: RUNTIME_ENGINES.docker.preflight, restarts: [] }), []);
        assert.deepEqual(ids(dockerHost(), { rules: RUNTIME_ENGINES.docker.preflight, restarts: ["docker"] }), []);
    });

    it("names only fields GpuNodeArgs has (there is no driver.skip)", () => {
        const src = ["gpuNode.ts", "nodeArgs.ts"].map((f) => fs.readFileSync(path.join(__dirname, "../../../components", f), "utf8")).join("\n");
        const args = (iface: string) =>
            [...(new RegExp(`export interface ${iface} \\{([\\s\\S]*?)\\n\\}`).exec(src)?.[1] ?? "").matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1]);
        const fields = new Set([...args("GpuNodeArgs"), ...args("DriverArgs").map((f) => `driver.${f}`), ...args("ToolkitArgs").map((f) => `toolkit.${f}`)]);
        const noGpu = parseHostFacts(probeFixture("debian12-no-gpu.json"));
        const rocky = parseHostFacts(probeFixture("handmade-2gpu-rocky9.json"));
        const all = [
            ...findings(noGpu, {
                installDriver: true,
                rules: [...RUNTIME_ENGINES.docker.preflight, ...RUNTIME_ENGINES.containerd.preflight, ...RUNTIME_ENGINES.crio.preflight],
                restarts: ["docker"],
                driver: { version: "410.48" },
            }),
            ...findings(rocky, { installDriver: true, rules: RUNTIME_ENGINES.docker.preflight }),
            ...findings(
                { ...h100(), driver: { loadedVersion: "410.48", libraryVersion: "410.66", kernelModule: "open" } },
                { rules: RUNTIME_ENGINES.docker.preflight, restarts: ["docker"] },
            ),
        ];
        assert.ok(all.length >= 6, all.map((f) => f.id).join(", "));
        for (const f of all) {
            for (const [, field] of `${f.message} ${f.fix}`.matchAll(/\b((?:driver|toolkit)\.[a-zA-Z]+|runtime)\b/g)) {
                assert.ok(fields.has(field), `${f.id} names ${field}, which GpuNodeArgs does not have`);
            }
        }
    });
});

describe("driver plan on SLES honours the pin (issue 13)", () => {
    it("installs the branch's or the exact version's package, not the newest", () => {
        const script = (version?: string) =>
            require("../../../sdk/driver/driverPlan")
                .driverPlan({ distro: { id: "sles", versionId: "15.6" }, ...(version ? { version } : { branch: "570" }) })
                .find((s: { name: string }) => s.name === "driver-packages").script as string;
        assert.match(script(), /want=570\./);
        assert.match(script(), /zypper[^\n]*search[^\n]*--match-exact/);
        assert.match(script(), /install -y --oldpackage "\$pkg=\$candidate"/);
        assert.match(script("570.86.15"), /want=570\.86\.15/);
        assert.doesNotMatch(script("570.86.15"), /install -y nvidia-open-driver-G06-signed-cuda-kmp-default\n/);
    });
});

describe("node plan runs the issue 13 preflight before any step", () => {
    const { nodePlan } = require("../../../sdk/node/nodePlan") as typeof import("../../../sdk/node/nodePlan");
    const spec = { runtime: "docker" as const, toolkit: { version: "1.20.0-1" } };
    const snapshot = (facts: HostFacts, files: Record<string, string | undefined> = {}) => ({
        facts,
        files: { "/etc/nvidia-container-runtime/config.toml": undefined, "/etc/docker/daemon.json": undefined, ...files },
        priorWrites: {},
        containerdDump: undefined,
    });

    it("refuses docker on a host without docker, and a restart on a host without systemd", () => {
        assert.throws(() => nodePlan(snapshot(h100()), spec), /no docker binary was found on the host \(runtime-missing\)/);
        assert.throws(() => nodePlan(snapshot({ ...dockerHost(), systemd: false }), spec), /does not run systemd.*\(no-systemd\)/);
        assert.throws(() => nodePlan(snapshot(dockerHost()), { ...spec, driver: { version: "410.48" } }), /driver\.version 410\.48 is older than 418\.81\.07/);
    });

    it("plans a host without systemd whose runtime config is already in place (no restart needed)", () => {
        const first = nodePlan(snapshot(dockerHost()), spec);
        const daemonJson = first.files.find((f) => f.path === "/etc/docker/daemon.json")!.text;
        const converged = nodePlan(snapshot({ ...dockerHost(), systemd: false }, { "/etc/docker/daemon.json": daemonJson }), spec);
        assert.ok(!converged.findings.some((f) => f.severity === "error"));
    });

    it("plans a host with mixed toolkit versions, with a warning (the plan fixes it)", () => {
        const mixed = { ...dockerHost(), toolkitPackages: { "nvidia-container-toolkit": "1.17.0-1", "nvidia-container-toolkit-base": "1.20.0-1" } };
        const planned = nodePlan(snapshot(mixed), spec);
        assert.equal(planned.findings.find((f) => f.id === "toolkit-mixed-versions")?.severity, "warning");
    });
});
