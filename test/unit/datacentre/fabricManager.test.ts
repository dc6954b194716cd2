import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { GpuConfigError } from "../../../sdk/errors";
import { fabricNeed } from "../../../sdk/datacentre/dataCentrePreflight";
import { HostFacts } from "../../../sdk/host/hostFacts";
import { FABRIC_MANAGER_RESTART_MARK } from "../../../sdk/datacentre/dataCentrePlan";
import { NodeSpec, nodePlan } from "../../../sdk/node/nodePlan";
import { PlanStep } from "../../../sdk/steps/planStep";
import { asServer, factsOf, fakeBin, h200Vm, snapshotOf } from "../../fixtures/dataCentreHosts";

const plan = (facts: HostFacts, spec: Partial<NodeSpec> = {}) => nodePlan(snapshotOf(facts), { runtime: "cdi", toolkit: { version: "1.20.0-1" }, ...spec });
const names = (steps: PlanStep[]) => steps.map((s) => s.name);
const step = (steps: PlanStep[], name: string) => steps.find((s) => s.name === name)!;
/** The `want=` line of a step: the driver version it pins (driver steps and Fabric Manager steps write it alike). */
const wantOf = (s: PlanStep) => /^want=(.*)$/m.exec(s.script)?.[1];
const hgxH100 = () => factsOf("handmade-hgx-h100-fm.json");
const hgxH100NoFm = () => factsOf("handmade-hgx-h100-no-fm.json");
const hgxB200 = () => factsOf("handmade-hgx-b200-nvl5.json");

describe("Fabric Manager and nvidia-persistenced (issue 17)", () => {
    it("decides from the NVSwitch devices and the fabric state, not the GPU name: the 2×H200 VM guest (NV18, fabric Completed, no NVSwitch) gets no Fabric Manager", () => {
        const vm = h200Vm();
        assert.equal(fabricNeed(vm).kind, "none");
        const { plan: p, findings } = plan(vm);
        assert.deepEqual(
            names(p.steps).filter((n) => n.startsWith("fabric")),
            [],
        );
        assert.ok(!findings.some((f) => f.severity === "error"), JSON.stringify(findings));
        assert.equal(fabricNeed(hgxH100()).kind, "fabric-manager");
        assert.equal(fabricNeed(hgxH100NoFm()).kind, "fabric-manager");
        assert.deepEqual([fabricNeed(hgxB200()).kind, fabricNeed(hgxB200()).nvlsm], ["fabric-manager", true]);
    });

    it("a VM guest whose NVLink fabric is not up and that sees no NVSwitch is warned that the fabric is managed elsewhere, and gets no Fabric Manager", () => {
        const vm = h200Vm();
        const stuck: HostFacts = {
            ...vm,
            dataCentre: { ...vm.dataCentre!, gpus: vm.dataCentre!.gpus.map((g) => ({ ...g, fabricState: "In Progress", fabricStatus: undefined })) },
        };
        const { plan: p, findings } = plan(stuck);
        assert.deepEqual(
            names(p.steps).filter((n) => n.startsWith("fabric")),
            [],
        );
        const warning = findings.find((f) => f.id === "fabric-managed-elsewhere");
        assert.equal(warning?.severity, "warning");
        assert.match(warning!.message, /In Progress.*no NVSwitch.*error 802/);
    });

    it("an NVSwitch host gets Fabric Manager after the driver steps and before the toolkit and runtime steps, pinned to the driver", () => {
        const { plan: p } = plan(hgxH100NoFm(), { driver: { version: "550.127.08" } });
        const order = names(p.steps);
        const at = (n: string) => order.indexOf(n);
        assert.ok(at("driver-verify") < at("fabric-manager-packages"), order.join(" "));
        assert.ok(at("fabric-manager-packages") < at("fabric-manager-service") && at("fabric-manager-service") < at("toolkit-prerequisites"), order.join(" "));
        assert.ok(at("persistenced") > at("driver-verify") && at("persistenced") < at("toolkit-prerequisites"));
        assert.ok(!order.includes("fabric-manager-nvlsm"));
    });

    it("Fabric Manager's pinned version is exactly the driver's: driver.version, the host's own driver, and a branch resolved on the host", () => {
        for (const [facts, driver] of [
            [hgxH100NoFm(), { version: "550.127.08" }],
            [hgxB200(), { version: "580.95.05", source: "cuda-repo" as const }],
            [hgxH100(), { version: "580.95.05" }],
        ] as const) {
            const { plan: p } = plan(facts, { driver });
            assert.equal(wantOf(step(p.steps, "fabric-manager-packages")), wantOf(step(p.steps, "driver-packages")), facts.os.prettyName);
            assert.equal(wantOf(step(p.steps, "fabric-manager-packages")), driver.version);
            assert.equal(wantOf(step(p.steps, "fabric-manager-service")), driver.version);
        }
        // No driver in the spec: the host's driver (the library on disk) is the pin.
        assert.equal(wantOf(step(plan(hgxH100()).plan.steps, "fabric-manager-packages")), "580.95.05");
        assert.equal(wantOf(step(plan(hgxB200()).plan.steps, "fabric-manager-packages")), "580.95.05", "not the installed Fabric Manager's 580.82.07");
        // A branch: the installed driver's version, read on the host after the driver steps, within the branch.
        const branch = plan(hgxH100NoFm(), { driver: { branch: "550" } }).plan.steps;
        assert.equal(wantOf(step(branch, "fabric-manager-packages")), wantOf(step(branch, "driver-packages")));
        assert.equal(wantOf(step(branch, "fabric-manager-packages")), "550.");
    });

    it("warns when the installed Fabric Manager is not at the driver's version (NVIDIA/gpu-driver-container#735), and on HGX B200 adds nvlsm", () => {
        const { plan: p, findings } = plan(hgxB200());
        const mismatch = findings.find((f) => f.id === "fabric-manager-version-mismatch");
        assert.match(mismatch!.message, /nvidia-fabricmanager 580\.82\.07-1 does not match the driver 580\.95\.05/);
        assert.ok(names(p.steps).includes("fabric-manager-nvlsm"));
        assert.match(
            step(p.steps, "fabric-manager-packages").script,
            /names="nvidia-fabricmanager nvidia-fabricmanager-\$branch"/,
            "CUDA-repo driver: the unversioned name first",
        );
        assert.match(
            step(plan(hgxH100()).plan.steps, "fabric-manager-packages").script,
            /names="nvidia-fabricmanager-\$branch nvidia-fabricmanager"/,
            "Ubuntu's driver: Ubuntu's name first",
        );
        assert.match(
            step(plan({ ...hgxH100(), packageManager: "dnf" }).plan.steps, "fabric-manager-packages").script,
            /pkg=nvidia-fabricmanager; else pkg=nvidia-fabric-manager/,
        );
    });

    it("preflight: an error naming real fields when the host needs Fabric Manager, the plan does not manage the driver and the driver's version is unknown", () => {
        const facts = hgxH100NoFm();
        // NVSwitch functions on the PCI bus, no driver loaded or on disk: nvidia-smi lists no GPU.
        const unknown: HostFacts = { ...facts, driver: { loadedVersion: undefined, kernelModule: undefined, libraryVersion: undefined }, gpus: [] };
        assert.throws(
            () => plan(unknown),
            (e: GpuConfigError) =>
                e instanceof GpuConfigError &&
                /fabric-manager-driver-unknown/.test(e.message) &&
                /driver\.libraryVersion/.test(e.message) &&
                /set driver\.version/.test(e.fix),
        );
        assert.ok(
            names(plan(unknown, { driver: { version: "550.127.08" } }).plan.steps).includes("fabric-manager-packages"),
            "a managed driver version is enough",
        );
        assert.deepEqual(
            names(plan(unknown, { fabricManager: "skip" }).plan.steps).filter((n) => n.startsWith("fabric")),
            [],
        );
    });

    it("fabricManager install forces it where the probe sees no NVSwitch, and refuses a host without systemd by name", () => {
        assert.throws(() => plan(h200Vm(), { fabricManager: "install" }), /systemd is false\) \(fabric-manager-no-systemd\)/);
        assert.ok(names(plan(asServer(h200Vm()), { fabricManager: "install" }).plan.steps).includes("fabric-manager-service"));
        assert.throws(
            () => plan(hgxH100(), { fabricManager: "always" as never }),
            /fabricManager: "always" is not supported — use one of: auto, install, skip/,
        );
    });

    it("nvidia-persistenced on data-centre GPUs, with an opt-out; none on hosts without systemd or on facts from an older probe", () => {
        assert.ok(names(plan(hgxH100NoFm()).plan.steps).includes("persistenced"));
        assert.ok(!names(plan(hgxH100NoFm(), { persistenced: false }).plan.steps).includes("persistenced"));
        const vm = plan(h200Vm());
        assert.ok(!names(vm.plan.steps).includes("persistenced"));
        assert.equal(vm.findings.find((f) => f.id === "persistenced-no-systemd")?.severity, "info", "persistence mode is already Enabled there");
        assert.ok(!names(plan(asServer(factsOf("h100-ubuntu2404-root.json"))).plan.steps).includes("persistenced"));
    });

    describe("scripts run in a real shell with fake package tools", () => {
        let dir: string;
        let mark: string;
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
        /** The step's script with the tmpfs mark and /proc/driver/nvidia/version moved into the scratch folder. */
        const runStep = (s: PlanStep, env: Record<string, string> = {}) => {
            const text = s.script
                .split(FABRIC_MANAGER_RESTART_MARK)
                .join(mark)
                .split("/run/pulumi-nvidia-gpu")
                .join(path.dirname(mark))
                .split("/proc/driver/nvidia/version")
                .join(path.join(dir, "proc-version"));
            // A PID namespace of its own, as test/helpers/standInTools.ts: the step's lock wait must not see package
            // managers that other suites run on this machine (fleet nodes' apt is in the host's process table).
            return spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "sh", "-s"], {
                input: text,
                encoding: "utf8",
                env: { ...process.env, ...env, PATH: `${dir}:${process.env.PATH}`, FAKE: dir },
            });
        };
        const log = () => fs.readFileSync(path.join(dir, "log"), "utf8");

        beforeEach(() => {
            dir = fakeBin({
                "apt-cache": `#!/bin/sh\necho "apt-cache $*" >> "$FAKE/log"\n[ "$1 $2" = "madison nvidia-fabricmanager-580" ] && printf ' nvidia-fabricmanager-580 | 580.105.08-0ubuntu0.22.04.1 | http://archive.ubuntu.com jammy-updates/multiverse amd64 Packages\\n nvidia-fabricmanager-580 | 580.95.05-0ubuntu0.22.04.1 | http://archive.ubuntu.com jammy-security/multiverse amd64 Packages\\n'\nexit 0\n`,
                "apt-get": `#!/bin/sh\necho "apt-get $*" >> "$FAKE/log"\n`,
                "apt-mark": `#!/bin/sh\necho "apt-mark $*" >> "$FAKE/log"\n[ "$1" = showhold ] && cat "$FAKE/held" 2>/dev/null\nexit 0\n`,
                "dpkg-query": `#!/bin/sh\n[ -e "$FAKE/installed" ] && case "$*" in *nvidia-fabricmanager-580*) cat "$FAKE/installed"; exit 0 ;; esac\nexit 1\n`,
                systemctl: `#!/bin/sh\necho "systemctl $*" >> "$FAKE/log"\ncase "$1" in is-enabled) cat "$FAKE/enabled" 2>/dev/null || echo disabled ;; is-active) [ -e "$FAKE/active" ] ;; restart) [ ! -e "$FAKE/fm-broken" ] && touch "$FAKE/active" ;; esac\n`,
                journalctl: `#!/bin/sh\necho "nv-fabricmanager: fabric manager NVIDIA GPU driver interface version 580.82.07 don't match with driver version 580.95.05"\n`,
                "nvidia-smi": `#!/bin/sh\nprintf 'Completed, Success\\nCompleted, Success\\n'\n`,
            });
            mark = path.join(dir, "run", "fabricmanager-restart");
        });

        it("apt: installs Fabric Manager at exactly the driver's version out of several, holds it, and is unchanged once installed and held", () => {
            const s = step(plan(hgxH100(), { driver: { version: "580.95.05" } }).plan.steps, "fabric-manager-packages");
            const first = runStep(s);
            assert.equal(first.status, 0, first.stderr);
            assert.match(first.stdout, /changed: nvidia-fabricmanager-580 580\.95\.05-0ubuntu0\.22\.04\.1 installed and held/);
            assert.match(
                log(),
                /apt-get .*install -y -q --allow-downgrades --allow-change-held-packages nvidia-fabricmanager-580=580\.95\.05-0ubuntu0\.22\.04\.1\n/,
            );
            assert.match(log(), /apt-mark hold nvidia-fabricmanager-580/);
            assert.ok(fs.existsSync(mark), "the service step is told to restart the daemon");
            fs.writeFileSync(path.join(dir, "installed"), "580.95.05-0ubuntu0.22.04.1 ii ");
            fs.writeFileSync(path.join(dir, "held"), "nvidia-fabricmanager-580\n");
            fs.writeFileSync(path.join(dir, "log"), "");
            const again = runStep(s);
            assert.equal(again.status, 0, again.stderr);
            assert.match(again.stdout, /^unchanged: nvidia-fabricmanager-580 580\.95\.05-0ubuntu0\.22\.04\.1 held$/m);
            assert.doesNotMatch(log(), /apt-get/);
        });

        it("apt: fails by name when no Fabric Manager exists at the driver's version", () => {
            const s = step(plan(hgxH100(), { driver: { version: "580.65.06" } }).plan.steps, "fabric-manager-packages");
            const run = runStep(s);
            assert.equal(run.status, 46);
            assert.match(run.stderr, /no Fabric Manager package at version 580\.65\.06-\* .*looked for: nvidia-fabricmanager-580 nvidia-fabricmanager/);
        });

        it("service: enables, restarts after a package change and waits for the fabric; a daemon that does not start fails with its journal", () => {
            const s = step(plan(hgxH100(), { driver: { version: "580.95.05" } }).plan.steps, "fabric-manager-service");
            fs.writeFileSync(
                path.join(dir, "proc-version"),
                "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build  (dvs-builder@U22)\n",
            );
            fs.mkdirSync(path.dirname(mark), { recursive: true });
            fs.writeFileSync(mark, "");
            const ok = runStep(s);
            assert.equal(ok.status, 0, ok.stderr);
            assert.match(ok.stdout, /changed: nvidia-fabricmanager 580\.95\.05 running, fabric Completed \/ Success on 2 GPU\(s\)/);
            assert.match(log(), /systemctl enable nvidia-fabricmanager\n[^]*systemctl restart nvidia-fabricmanager/);
            assert.ok(!fs.existsSync(mark));
            fs.writeFileSync(path.join(dir, "enabled"), "enabled\n");
            assert.match(runStep(s).stdout, /^unchanged: nvidia-fabricmanager/m);
            fs.rmSync(path.join(dir, "active"));
            fs.writeFileSync(path.join(dir, "fm-broken"), "");
            const broken = runStep(s);
            assert.equal(broken.status, 42);
            assert.match(broken.stderr, /nvidia-fabricmanager did not start; its log:\n.*don't match with driver version 580\.95\.05/);
        });

        it("service: while the new driver waits for its reboot, Fabric Manager is only enabled", () => {
            const s = step(plan(hgxH100(), { driver: { version: "580.95.05" } }).plan.steps, "fabric-manager-service");
            fs.writeFileSync(
                path.join(dir, "proc-version"),
                "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.82.07  Release Build  (dvs-builder@U22)\n",
            );
            const run = runStep(s);
            assert.equal(run.status, 0, run.stderr);
            assert.match(run.stdout, /reboot-required: the loaded driver is 580\.82\.07; Fabric Manager 580\.95\.05 starts at boot/);
            assert.doesNotMatch(log(), /restart/);
        });
    });
});
