import { serverFacts } from "./serverFacts";
import { parseHostFacts } from "../../sdk/host/hostFacts";
import { dataCentrePlan } from "../../sdk/datacentre/dataCentrePlan";
import { probeFixture } from "./paths";
import { dockerContainerStep } from "../../sdk/workloads/dockerContainer";
import { driverPlan } from "../../sdk/driver/driverPlan";
import { nodePlan } from "../../sdk/node/nodePlan";
import { PlanStep } from "../../sdk/steps/planStep";
import { toolkitPlan } from "../../sdk/toolkit/toolkitPlan";

/** Every kind of plan this library generates, for apt, dnf and zypper, so shellcheck can read them all. */
export function allGeneratedSteps(): Array<{ label: string; step: PlanStep }> {
    const out: Array<{ label: string; step: PlanStep }> = [];
    const add = (label: string, steps: PlanStep[]) => steps.forEach((step) => out.push({ label: `${label}/${step.name}`, step }));
    for (const pm of ["apt", "dnf", "zypper"] as const) {
        for (const experimental of [false, true])
            add(`toolkit-${pm}${experimental ? "-experimental" : ""}`, toolkitPlan({ version: "1.19.0-1", packageManager: pm, experimental }));
    }
    const drivers: Array<[string, string, object]> = [
        ["ubuntu", "24.04", { branch: "580", reboot: true }],
        ["ubuntu", "24.04", { version: "580.95.05" }],
        ["ubuntu", "22.04", { branch: "590", source: "cuda-repo" }],
        ["debian", "12", { version: "535.216.01", source: "distro" }],
        ["debian", "12", { branch: "580" }],
        ["rocky", "9", { branch: "580", kernelModules: "proprietary" }],
        ["rhel", "9", { version: "580.95.05" }],
        ["sles", "15.6", { branch: "580" }],
    ];
    for (const [id, versionId, spec] of drivers) add(`driver-${id}${versionId}`, driverPlan({ distro: { id, versionId }, ...spec }));
    const facts = serverFacts();
    for (const runtime of ["docker", "docker-rootless", "containerd", "crio", "cdi"] as const) {
        const live = {
            "/etc/docker/daemon.json": '{"bridge": "none"}\n',
            "/etc/containerd/config.toml": undefined,
            "/etc/nvidia-container-runtime/config.toml": undefined,
        };
        const snapshot = { facts, files: live, priorWrites: {}, containerdDump: undefined };
        add(
            `node-${runtime}`,
            nodePlan(snapshot, { runtime, rootlessUser: "alice", toolkit: { version: "1.20.0-1" }, driver: { branch: "580" }, enableCdi: true }).plan.steps,
        );
    }
    // Data-centre steps (issue 17): Fabric Manager (with nvlsm on HGX B200), nvidia-persistenced and a MIG layout, per package manager.
    for (const [fixture, driver] of [
        ["handmade-hgx-h100-fm.json", undefined],
        ["handmade-hgx-h100-no-fm.json", { branch: "550" }],
        ["handmade-hgx-b200-nvl5.json", { version: "580.95.05", source: "cuda-repo" }],
    ] as const) {
        for (const pm of ["apt", "dnf", "zypper"] as const) {
            const dcFacts = { ...parseHostFacts(probeFixture(fixture)), packageManager: pm };
            const migLayout = { devices: [{ gpus: ["0"], profiles: { "3g.40gb": 2 } }, { enabled: false }] };
            add(
                `datacentre-${fixture.replace(/\.json$/, "")}-${pm}`,
                dataCentrePlan(
                    { facts: dcFacts, files: {}, priorWrites: {}, containerdDump: undefined },
                    { driver, migLayout: fixture.includes("h100-fm") ? migLayout : undefined },
                ).steps,
            );
        }
    }
    for (const mode of ["gpus", "runtime", "cdi"] as const) {
        add(`container-${mode}`, [
            dockerContainerStep({
                name: "smi",
                image: "nvidia/cuda:12.4.1-base-ubuntu22.04",
                mode,
                devices: ["0", "1"],
                env: { A: "b c" },
                args: ["nvidia-smi"],
            }),
        ]);
    }
    return out;
}
