/**
 * Data-centre facts (issue 17): NVSwitch, the NVLink fabric, persistence, MIG and the services that run them,
 * read from the probe's new, optional members. A probe that predates them gives `probed: false` and empty lists.
 */

/** Persistence, MIG and fabric state of one GPU. `undefined` where nvidia-smi reports N/A or the probe lacks it. */
export interface GpuModes {
    index: number;
    /** `Enabled` or `Disabled`. */
    persistenceMode: string | undefined;
    /** `Enabled` or `Disabled`; `undefined` on GPUs without MIG. */
    migCurrent: string | undefined;
    migPending: string | undefined;
    /** NVLink fabric registration: `Completed`, `In Progress`, `Not Started`, `Not Supported`. */
    fabricState: string | undefined;
    /** `Success` or the failure nvidia-smi names; N/A until the state is Completed. */
    fabricStatus: string | undefined;
}

/** One GPU instance profile of `nvidia-smi mig -lgip`. */
export interface MigProfile {
    gpu: number;
    /** `1g.18gb`, `3g.71gb`, `1g.18gb+me`. */
    name: string;
    id: number;
    /** How many instances of the profile fit on the empty GPU. */
    total: number;
    memoryGiB: number;
}

/** One GPU instance of `nvidia-smi mig -lgi`. */
export interface MigGpuInstance {
    gpu: number;
    profile: string;
    profileId: number;
    instanceId: number;
    placement: string;
}

/** One compute instance of `nvidia-smi mig -lci`. */
export interface MigComputeInstance {
    gpu: number;
    gpuInstanceId: number;
    profile: string;
    profileId: number;
    instanceId: number;
}

export interface ServiceState {
    /** `systemctl is-active`: active, inactive, failed, activating, unknown. */
    active: string;
    /** `systemctl is-enabled`: enabled, disabled, masked, static, or not-found when there is no such unit. */
    enabled: string;
}

export interface DataCentreFacts {
    /** The probe ran the data-centre queries (a probe from issue 17 on, on a host with nvidia-smi). */
    probed: boolean;
    /** NVSwitch PCI functions: vendor 0x10de with PCI class 0x0680xx (other bridge). */
    nvswitchPci: Array<{ address: string; deviceId: string }>;
    /** `/dev/nvidia-nvswitch<N>` device nodes (not `nvidia-nvswitchctl`, which the driver creates everywhere). */
    nvswitchDevices: string[];
    /** Per GPU, by index. */
    gpus: GpuModes[];
    /** GPU pairs joined by NVLink (`nvidia-smi topo -m` NV#), with the number of bonded links. */
    nvlinks: Array<{ a: number; b: number; links: number }>;
    migProfiles: MigProfile[];
    migGpuInstances: MigGpuInstance[];
    migComputeInstances: MigComputeInstance[];
    /** Fabric Manager, nvlsm and NSCQ packages by name, e.g. `{ "nvidia-fabricmanager-580": "580.95.05-0ubuntu0.22.04.1" }`. */
    packages: Record<string, string>;
    /** `nv-fabricmanager --version`'s version. */
    fabricManagerVersion: string | undefined;
    /** nvidia-fabricmanager, nvidia-persistenced and nvlsm; absent without systemctl. */
    services: Record<string, ServiceState>;
    infinibandDevices: string[];
    /** ib_umad is loaded (Fabric Manager needs it on NVLink 5 systems). */
    ibUmadLoaded: boolean;
    /** `systemd-detect-virt`: none, kvm, docker, … */
    virtualization: string | undefined;
}

type Raw = Record<string, string | null | undefined>;

const known = (v: string | undefined) => (v === undefined || v === "" || v === "N/A" || v.startsWith("[N/A") || v.startsWith("[Not Supported") ? undefined : v);
const linesOf = (text: string | null | undefined) =>
    (text ?? "")
        .split("\n")
        .map((l) => l.trimEnd())
        .filter((l) => l.trim() !== "");

/** Parses the data-centre members of the probe's JSON. `gpuBusIds` maps `nvidia-smi -q` bus ids to GPU indexes. */
export function parseDataCentreFacts(
    raw: Raw,
    pciDevices: Array<{ address: string; deviceId: string; pciClass: string }>,
    gpuBusIds: Array<{ index: number; pciBusId: string | undefined }>,
    installed: (lines: string[]) => Record<string, string>,
): DataCentreFacts {
    const gpus = linesOf(raw.gpuModes)
        .map(parseGpuModes)
        .filter((g): g is GpuModes => g !== undefined);
    // Drivers without the fabric.* query fields: the probe read the Fabric section of `nvidia-smi -q` instead.
    for (const line of linesOf(raw.gpuFabric)) {
        const [busId, state, status] = line.split("|").map((s) => s.trim());
        const index = gpuBusIds.find((g) => g.pciBusId !== undefined && sameBusId(g.pciBusId, busId))?.index;
        const gpu = gpus.find((g) => g.index === index);
        if (gpu) Object.assign(gpu, { fabricState: known(state), fabricStatus: known(status) });
    }
    const services: Record<string, ServiceState> = {};
    for (const line of linesOf(raw.gpuServices)) {
        const [name, active, enabled] = line.trim().split(/\s+/);
        if (name && active && enabled) services[name] = { active, enabled };
    }
    return {
        probed: raw.gpuModes !== undefined && raw.gpuModes !== null,
        nvswitchPci: pciDevices.filter((d) => /^0x0680/i.test(d.pciClass)).map(({ address, deviceId }) => ({ address, deviceId })),
        nvswitchDevices: linesOf(raw.nvswitchDevices)
            .map((l) => l.trim())
            .filter((d) => /^\/dev\/nvidia-nvswitch\d+$/.test(d)),
        gpus,
        nvlinks: parseNvlinkTopology(raw.nvlinkTopology ?? ""),
        migProfiles: parseMigProfiles(raw.migProfiles ?? ""),
        migGpuInstances: parseMigGpuInstances(raw.migGpuInstances ?? ""),
        migComputeInstances: parseMigComputeInstances(raw.migComputeInstances ?? ""),
        packages: installed(linesOf(raw.fabricPackages).map((l) => l.trim())),
        fabricManagerVersion: /(\d+\.\d+(?:\.\d+)?)/.exec(raw.fabricManagerVersion ?? "")?.[1],
        services,
        infinibandDevices: linesOf(raw.infinibandDevices).map((l) => l.trim()),
        ibUmadLoaded: linesOf(raw.ibModules).some((l) => l.trim() === "/sys/module/ib_umad"),
        virtualization: known((raw.virtualization ?? "").trim()),
    };
}

/** `0, Enabled, Disabled, Disabled, Completed, Success` (the last two only where nvidia-smi knows fabric.*). */
function parseGpuModes(line: string): GpuModes | undefined {
    const f = line.split(",").map((s) => s.trim());
    if (!/^\d+$/.test(f[0] ?? "")) return undefined;
    return {
        index: Number(f[0]),
        persistenceMode: known(f[1]),
        migCurrent: known(f[2]),
        migPending: known(f[3]),
        fabricState: known(f[4]),
        fabricStatus: known(f[5]),
    };
}

/** `00000000:00:06.0` and `0000:00:06.0` name the same function. */
function sameBusId(a: string, b: string): boolean {
    const norm = (s: string) =>
        s
            .toLowerCase()
            .replace(/^0+(?=[0-9a-f]{4}:)/, "")
            .replace(/^([0-9a-f]+):/, (_, d: string) => `${d.padStart(4, "0").slice(-4)}:`);
    return norm(a) === norm(b);
}

/**
 * `nvidia-smi topo -m`: the header names the GPU columns, each `GPU<i>` row gives its links; `NV18` is a bonded set
 * of 18 NVLinks. The probe strips the escape of the underlined header, leaving `[4m`, which is ignored.
 */
export function parseNvlinkTopology(text: string): Array<{ a: number; b: number; links: number }> {
    const rows = text.split("\n").map((l) => l.replace(/\[\d+m/g, ""));
    const header = rows.find((l) => /^\s*GPU\d+\s/.test(l) && !/^GPU\d+\s+(X|NV|SYS|NODE|PHB|PXB|PIX)/.test(l.trimStart()));
    if (header === undefined) return [];
    const columns = header
        .trim()
        .split(/\t+|\s{2,}/)
        .map((c) => /^GPU(\d+)$/.exec(c.trim())?.[1])
        .filter((c): c is string => c !== undefined)
        .map(Number);
    const links: Array<{ a: number; b: number; links: number }> = [];
    for (const row of rows) {
        const m = /^GPU(\d+)\t(.*)$/.exec(row);
        if (!m) continue;
        const a = Number(m[1]);
        const cells = m[2].split("\t").map((c) => c.trim());
        columns.forEach((b, i) => {
            const nv = /^NV(\d+)$/.exec(cells[i] ?? "");
            if (nv && a < b) links.push({ a, b, links: Number(nv[1]) });
        });
    }
    return links;
}

/** `|   0  MIG 1g.18gb         19     7/7        16.00      No     16     1     0   |` */
export function parseMigProfiles(text: string): MigProfile[] {
    const out: MigProfile[] = [];
    for (const line of text.split("\n")) {
        const m = /^\|\s+(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+\d+\/(\d+)\s+([\d.]+)\s/.exec(line);
        if (m) out.push({ gpu: Number(m[1]), name: m[2], id: Number(m[3]), total: Number(m[4]), memoryGiB: Number(m[5]) });
    }
    return out;
}

/** `|   0  MIG 1g.18gb          19        7          0:1     |` */
export function parseMigGpuInstances(text: string): MigGpuInstance[] {
    const out: MigGpuInstance[] = [];
    for (const line of text.split("\n")) {
        const m = /^\|\s+(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+:\d+)\s+\|/.exec(line);
        if (m) out.push({ gpu: Number(m[1]), profile: m[2], profileId: Number(m[3]), instanceId: Number(m[4]), placement: m[5] });
    }
    return out;
}

/** `|   0      7       MIG 1g.18gb          0         0          0:1       |` */
export function parseMigComputeInstances(text: string): MigComputeInstance[] {
    const out: MigComputeInstance[] = [];
    for (const line of text.split("\n")) {
        const m = /^\|\s+(\d+)\s+(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+(\d+)\s+\d+:\d+\s+\|/.exec(line);
        if (m) out.push({ gpu: Number(m[1]), gpuInstanceId: Number(m[2]), profile: m[3], profileId: Number(m[4]), instanceId: Number(m[5]) });
    }
    return out;
}
