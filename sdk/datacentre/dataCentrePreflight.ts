import { GpuInfo, HostFacts } from "../host/hostFacts";
import { Finding } from "../host/preflight";

import { FabricManager } from "../spec/choices";
export { FABRIC_MANAGER_MODES } from "../spec/choices";

/** Whether the plan manages NVIDIA Fabric Manager: sdk/spec/choices.ts's FabricManager, by its sdk name. */
export const FabricManagerMode = FabricManager;
export type FabricManagerMode = `${FabricManager}`;

/** What the NVLink fabric of a host needs. */
export interface FabricNeed {
    /**
     * `none`: no fabric to manage here (no NVLink, or a fabric that is already up without a local Fabric Manager:
     * a VM guest whose hypervisor runs it); `fabric-manager`: install, pin and verify Fabric Manager here;
     * `external`: NVLink GPUs whose fabric is not up, and no NVSwitch here: it is managed outside this host.
     */
    kind: "none" | "fabric-manager" | "external";
    /** NVLink 5 (HGX B200/B300): Fabric Manager also needs the NVLink subnet manager (nvlsm) and ib_umad. */
    nvlsm: boolean;
    /** One line naming the facts that decided it. */
    reason: string;
}

/** HGX Blackwell boards (B100/B200/B300, NVLink 5, managed over InfiniBand); not GB200/GB300 trays, whose switches are remote. */
export function isHgxBlackwell(gpu: GpuInfo): boolean {
    return /(^|[^G])\bB(100|200|300)\b/.test(gpu.name) && /^10\./.test(gpu.computeCapability);
}

/** Data-centre GPUs, which want nvidia-persistenced (NVIDIA/nvidia-container-toolkit#202: "driver rpc error: timed out"). */
export function isDataCentreGpu(gpu: GpuInfo): boolean {
    return /\b(Tesla|A100|A800|A30|A40|A10G?|A16|A2|H100|H800|H200|H20|GH200|B100|B200|B300|GB200|GB300|L4|L40S?|L20|T4|V100|P100|P40|RTX PRO 6000 Blackwell Server)\b/.test(
        gpu.name,
    );
}

/** The NVLink fabric need, decided from the fabric state and the NVSwitch devices, never from the GPU name alone. */
export function fabricNeed(facts: HostFacts, mode: FabricManagerMode = FabricManagerMode.Auto): FabricNeed {
    const dc = facts.dataCentre;
    const nvlsm = facts.gpus.some(isHgxBlackwell);
    if (mode === FabricManagerMode.Skip) return { kind: "none", nvlsm: false, reason: "fabricManager is skip" };
    if (mode === FabricManagerMode.Install) return { kind: "fabric-manager", nvlsm, reason: "fabricManager is install" };
    if (dc === undefined || !dc.probed) return { kind: "none", nvlsm: false, reason: "the host facts predate the data-centre probe (no fabric state)" };
    const states = dc.gpus.map((g) => g.fabricState).filter((s): s is string => s !== undefined);
    const notUp = dc.gpus.filter((g) => g.fabricState !== undefined && g.fabricState !== "Completed");
    const localFabricManager =
        Object.keys(dc.packages).some((p) => /fabric-?manager/.test(p)) || (dc.services["nvidia-fabricmanager"]?.enabled ?? "not-found") !== "not-found";
    if (dc.nvswitchPci.length > 0 || dc.nvswitchDevices.length > 0) {
        const what =
            dc.nvswitchPci.length > 0
                ? `${dc.nvswitchPci.length} NVSwitch PCI function(s) (${dc.nvswitchPci.map((d) => d.address).join(", ")})`
                : `NVSwitch device nodes ${dc.nvswitchDevices.join(", ")}`;
        return { kind: "fabric-manager", nvlsm, reason: `${what}; fabric state ${summary(states)}` };
    }
    if (nvlsm && dc.nvlinks.length > 0 && (localFabricManager || (dc.infinibandDevices.length > 0 && notUp.length > 0))) {
        return {
            kind: "fabric-manager",
            nvlsm,
            reason: `HGX Blackwell GPUs joined by NVLink 5, fabric state ${summary(states)}, ${localFabricManager ? "Fabric Manager installed here" : `InfiniBand devices ${dc.infinibandDevices.join(", ")}`}`,
        };
    }
    if (dc.nvlinks.length > 0 && notUp.length > 0) {
        return { kind: "external", nvlsm: false, reason: `GPUs joined by NVLink with fabric state ${summary(states)} and no NVSwitch on this host` };
    }
    return {
        kind: "none",
        nvlsm: false,
        reason:
            dc.nvlinks.length > 0
                ? `NVLink fabric already ${summary(states)} without a local NVSwitch (managed by the host or hypervisor)`
                : "no NVLink between GPUs",
    };
}

function summary(states: string[]): string {
    if (states.length === 0) return "unknown";
    const counts = new Map<string, number>();
    for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
    return [...counts].map(([s, n]) => (counts.size === 1 ? s : `${s} on ${n}`)).join(", ");
}

/** The driver version Fabric Manager must match: exact, or a branch resolved on the host after the driver steps. */
export interface FabricDriverTarget {
    /** `580.95.05`, or `580.` for a branch (the installed driver's version is read on the host at apply). */
    want: string;
    /** Where it came from, for previews and errors. */
    origin: "driver.version" | "driver.branch" | "host";
}

/** The driver version to pin Fabric Manager to; `undefined` where the plan does not manage the driver and the host's is unknown. */
export function fabricDriverTarget(facts: HostFacts, driver: { branch?: string; version?: string } | undefined): FabricDriverTarget | undefined {
    if (driver?.version !== undefined) return { want: driver.version, origin: "driver.version" };
    if (driver?.branch !== undefined) return { want: `${driver.branch}.`, origin: "driver.branch" };
    // The library on disk is what the next boot loads; the loaded module and nvidia-smi come next.
    const hostVersion = facts.driver.libraryVersion ?? facts.driver.loadedVersion ?? facts.gpus[0]?.driverVersion;
    return hostVersion === undefined || hostVersion === "" ? undefined : { want: hostVersion, origin: "host" };
}

/** What the node is asked to do, as far as the data-centre rules need it. */
export interface DataCentreIntent {
    fabricManager?: FabricManagerMode;
    persistenced?: boolean;
    /** The driver the plan installs (NodeSpec `driver`, when the plan installs one). */
    driver?: { branch?: string; version?: string };
}

/** Data-centre preflight: Fabric Manager that cannot be pinned, fabrics managed elsewhere, services without systemd. */
export function dataCentrePreflight(facts: HostFacts, intent: DataCentreIntent): Finding[] {
    const findings: Finding[] = [];
    const need = fabricNeed(facts, intent.fabricManager ?? FabricManagerMode.Auto);
    const dc = facts.dataCentre;
    if (need.kind === "fabric-manager") {
        const target = fabricDriverTarget(facts, intent.driver);
        if (target === undefined) {
            findings.push({
                id: "fabric-manager-driver-unknown",
                severity: "error",
                message: `this host needs Fabric Manager (${need.reason}), which must match the driver exactly, but driver is not set and the host reports no driver version (driver.libraryVersion, driver.loadedVersion and the GPUs' driverVersion are empty)`,
                fix: "set driver.version (e.g. 580.95.05) so the plan installs the driver and Fabric Manager at one version, or install the driver first and plan again",
            });
        }
        if (!facts.systemd) {
            findings.push({
                id: "fabric-manager-no-systemd",
                severity: "error",
                message: `this host needs Fabric Manager (${need.reason}), which runs as the nvidia-fabricmanager systemd service, but the host has no systemd (systemd is false)`,
                fix: "run the node with systemd as PID 1, or set fabricManager to skip and run nv-fabricmanager yourself",
            });
        }
        const installed = Object.entries(dc?.packages ?? {}).filter(([p]) => /fabric-?manager/.test(p) && !p.includes("dev"));
        const exact = target !== undefined && !target.want.endsWith(".") ? target.want : undefined;
        const stale = exact === undefined ? [] : installed.filter(([, v]) => !v.startsWith(`${exact}-`));
        if (stale.length > 0) {
            findings.push({
                id: "fabric-manager-version-mismatch",
                severity: "warning",
                message: `Fabric Manager ${stale.map(([p, v]) => `${p} ${v}`).join(", ")} does not match the driver ${exact}: it refuses to start, and CUDA fails with error 802 (NVIDIA/gpu-driver-container#735)`,
                fix: `the plan installs Fabric Manager ${exact} and holds it`,
            });
        }
        if (need.nvlsm && dc !== undefined && !dc.ibUmadLoaded) {
            findings.push({
                id: "nvlsm-ib-umad-not-loaded",
                severity: "info",
                message: "NVLink 5 Fabric Manager talks to the switches through ib_umad, which is not loaded",
                fix: "the plan loads ib_umad and adds it to /etc/modules-load.d",
            });
        }
    } else if (need.kind === "external") {
        findings.push({
            id: "fabric-managed-elsewhere",
            severity: "warning",
            message: `${need.reason}: the fabric is managed outside this host (a VM guest's hypervisor), so Fabric Manager here cannot bring it up; CUDA fails with error 802 until it completes`,
            fix: "ask the provider to complete the fabric on the host side; if this host does have NVSwitches the probe cannot see, set fabricManager to install",
        });
    }
    const dataCentreGpus = facts.gpus.filter(isDataCentreGpu);
    if ((intent.persistenced ?? true) && dataCentreGpus.length > 0 && dc?.probed && !facts.systemd) {
        const disabled = dc.gpus.filter((g) => g.persistenceMode === "Disabled").map((g) => g.index);
        findings.push({
            id: "persistenced-no-systemd",
            severity: disabled.length > 0 ? "warning" : "info",
            message: `nvidia-persistenced is managed with systemd, which this host lacks (systemd is false); persistence mode is ${disabled.length > 0 ? `Disabled on GPU ${disabled.join(", ")}` : "Enabled on every GPU"}`,
            fix: "start nvidia-persistenced from the host's own init, or set persistenced to false",
        });
    }
    return findings;
}
