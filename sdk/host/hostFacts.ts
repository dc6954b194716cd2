import { GpuConfigError } from "../errors";
import { DataCentreFacts, parseDataCentreFacts } from "./dataCentreFacts";
import { DriverOwnership, parseDriverOwnership } from "./driverFacts";

/** One GPU as `nvidia-smi --query-gpu` reports it. */
export interface GpuInfo {
    index: number;
    name: string;
    uuid: string;
    driverVersion: string;
    memoryMiB: number;
    computeCapability: string;
    /** `Enabled`, `Disabled`, or undefined where the GPU has no MIG. */
    migMode: string | undefined;
    pciBusId: string | undefined;
}

export type PackageManager = "apt" | "dnf" | "zypper" | "yum";

/** What the probe (sdk/host/probe.sh) found on a host, typed. */
export interface HostFacts {
    os: { id: string; versionId: string; idLike: string[]; prettyName: string };
    arch: string;
    kernel: string;
    kernelHeaders: boolean;
    packageManager: PackageManager | undefined;
    /** `groups`: the SSH user's groups (`id -Gn`); undefined from a probe that predates it. */
    user: { name: string; uid: number; sudo: "passwordless" | "password" | "none"; groups?: string[] };
    wsl2: boolean;
    systemd: boolean;
    cgroupVersion: 1 | 2 | undefined;
    secureBoot: "enabled" | "disabled" | "unknown";
    /** NVIDIA PCI functions (vendor 0x10de): GPUs and their audio/bridge functions. */
    pciDevices: Array<{ address: string; deviceId: string; pciClass: string }>;
    driver: {
        /** Version of the loaded kernel module (`/proc/driver/nvidia/version`). */
        loadedVersion: string | undefined;
        kernelModule: "open" | "proprietary" | undefined;
        /** Version of the user-space library on disk (`libnvidia-ml.so.<version>`). */
        libraryVersion: string | undefined;
    };
    gpus: GpuInfo[];
    /** Installed toolkit packages by name, e.g. `{ "nvidia-container-toolkit": "1.19.0-1" }`. */
    toolkitPackages: Record<string, string>;
    driverPackages: Record<string, string>;
    docker: DockerFacts | undefined;
    containerd: { version: string | undefined; configVersion: number | undefined } | undefined;
    crioVersion: string | undefined;
    podmanVersion: string | undefined;
    cdiSpecs: string[];
    graphics: GraphicsFacts;
    /**
     * NVSwitch, NVLink fabric, persistence, MIG and their services (issue 17). Always set by parseHostFacts; a probe
     * that predates these queries gives `probed: false`. Optional so that hand-built facts need not carry it.
     */
    dataCentre?: DataCentreFacts;
    /** Who owns the driver (issue 23, sdk/host/driverFacts.ts). Always set by parseHostFacts; optional for hand-built facts. */
    driverOwnership?: DriverOwnership;
}

export interface DockerFacts {
    path: string;
    clientVersion: string | undefined;
    serverVersion: string | undefined;
    snap: boolean;
    rootless: boolean;
    desktop: boolean;
    runtimes: string[];
    cgroupDriver: string | undefined;
}

/** Whether the graphics and video parts of the driver are on the host (for OpenGL, Vulkan, NVENC/NVDEC). */
export interface GraphicsFacts {
    vulkanIcdFiles: string[];
    eglVendorFiles: string[];
    glcore: boolean;
    encode: boolean;
    cuvid: boolean;
    /** The driver's OpenCL ICD file and libnvidia-opencl; undefined when the probe did not look (recorded before it did). */
    opencl?: { icd: boolean; library: boolean };
}

type Raw = Record<string, string | null | undefined>;

/** Parses the probe's JSON output. Throws a GpuConfigError naming the probe when it is not the probe's JSON. */
export function parseHostFacts(probeOutput: string, host = "host"): HostFacts {
    let raw: Raw;
    try {
        raw = JSON.parse(probeOutput) as Raw;
    } catch (error) {
        throw new GpuConfigError(
            `probe output of ${host}`,
            `is not JSON (${(error as Error).message})`,
            "run sdk/host/probe.sh on the host by hand and check what it prints",
        );
    }
    if (raw.probeVersion !== "1") {
        throw new GpuConfigError(`probe output of ${host}`, `has probe version ${String(raw.probeVersion)}`, "use the probe script of this library version");
    }
    const str = (key: string) => raw[key] ?? undefined;
    const lines = (key: string) =>
        (raw[key] ?? "")
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "");
    const driverProc = str("driverProc") ?? "";
    const libraries = lines("driverLibraries");
    const pciDevices = lines("pciDevices").map((line) => {
        const [address, deviceId, pciClass] = line.split(/\s+/);
        return { address, deviceId, pciClass };
    });
    const gpus = lines("nvidiaSmi")
        .map(parseGpuLine)
        .filter((g): g is GpuInfo => g !== undefined);

    const facts: HostFacts = {
        os: {
            id: str("osId") ?? "",
            versionId: str("osVersionId") ?? "",
            idLike: (str("osIdLike") ?? "").split(/\s+/).filter(Boolean),
            prettyName: str("osPrettyName") ?? "",
        },
        arch: str("arch") ?? "",
        kernel: str("kernel") ?? "",
        kernelHeaders: str("kernelHeaders") === "present",
        packageManager: packageManagerOf(str("packageManagers") ?? str("packageManager") ?? "", str("osId") ?? "", str("osIdLike") ?? ""),
        user: {
            name: str("user") ?? "",
            uid: Number(str("uid") ?? "-1"),
            sudo: (str("sudo") as HostFacts["user"]["sudo"] | undefined) ?? "none",
            ...(str("groups") === undefined ? {} : { groups: (str("groups") ?? "").split(/\s+/).filter(Boolean) }),
        },
        wsl2: lines("wslMarkers").length > 0,
        systemd: str("pid1") === "systemd" || ["running", "degraded", "starting"].includes(str("systemdState") ?? ""),
        cgroupVersion: str("cgroupFs") === "cgroup2fs" ? 2 : str("cgroupFs") === "tmpfs" ? 1 : undefined,
        secureBoot: secureBootOf(str("secureBoot")),
        pciDevices,
        driver: {
            loadedVersion: /Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)/.exec(driverProc)?.[1],
            kernelModule: driverProc === "" ? undefined : /Open Kernel Module/.test(driverProc) ? "open" : "proprietary",
            libraryVersion: libraries.map((l) => /lib(?:nvidia-ml|cuda)\.so\.(\d+\.\d+(?:\.\d+)?)$/.exec(l)?.[1]).find(Boolean),
        },
        gpus,
        toolkitPackages: installedPackages(lines("toolkitPackages")),
        driverPackages: installedPackages(lines("driverPackages")),
        docker: dockerOf(raw),
        containerd:
            str("containerdVersion") === undefined
                ? undefined
                : {
                      version: /\s(?:v)?(\d+\.\d+\.\d+)/.exec(str("containerdVersion") ?? "")?.[1],
                      configVersion: str("containerdConfigVersion") ? Number(str("containerdConfigVersion")) : undefined,
                  },
        crioVersion: /(\d+\.\d+\.\d+)/.exec(str("crioVersion") ?? "")?.[1],
        podmanVersion: /(\d+\.\d+\.\d+)/.exec(str("podmanVersion") ?? "")?.[1],
        cdiSpecs: lines("cdiSpecs"),
        graphics: {
            vulkanIcdFiles: lines("graphicsFiles").filter((f) => f.includes("vulkan")),
            eglVendorFiles: lines("graphicsFiles").filter((f) => f.includes("egl_vendor")),
            glcore: libraries.some((l) => l.includes("libnvidia-glcore.so")),
            encode: libraries.some((l) => l.includes("libnvidia-encode.so")),
            cuvid: libraries.some((l) => l.includes("libnvcuvid.so")),
            ...(typeof raw.openclFiles === "string"
                ? {
                      opencl: {
                          icd: lines("openclFiles").some((f) => f.endsWith("/nvidia.icd")),
                          library: lines("openclFiles").some((f) => f.includes("libnvidia-opencl.so")),
                      },
                  }
                : {}),
        },
        dataCentre: parseDataCentreFacts(raw, pciDevices, gpus, installedPackages),
    };
    return { ...facts, driverOwnership: parseDriverOwnership(raw, facts) };
}

/** `0, NVIDIA H100 80GB HBM3, GPU-…, 580.159.04, 81559, 9.0, Disabled, 00000000:00:06.0` */
export function parseGpuLine(line: string): GpuInfo | undefined {
    const f = line.split(",").map((s) => s.trim());
    if (f.length < 7 || !/^\d+$/.test(f[0])) return undefined;
    const known = (v: string | undefined) => (v === undefined || v === "" || v.startsWith("[N/A") || v === "N/A" ? undefined : v);
    return {
        index: Number(f[0]),
        name: f[1],
        uuid: f[2],
        driverVersion: f[3],
        memoryMiB: Number(f[4]),
        computeCapability: f[5],
        migMode: known(f[6]),
        pciBusId: known(f[7]),
    };
}

/**
 * The distribution's own package manager among those installed: a host can carry several (Debian
 * packages zypper and dnf), and the os-release family decides.
 */
function packageManagerOf(found: string, id: string, idLike: string): PackageManager | undefined {
    const installed = found
        .split(/\s+/)
        .map((p) => (p === "apt-get" ? "apt" : p))
        .filter((p): p is PackageManager => ["apt", "dnf", "zypper", "yum"].includes(p));
    const family = `${id} ${idLike}`;
    const preferred: PackageManager[] = /suse/.test(family)
        ? ["zypper"]
        : /rhel|fedora|centos|rocky|alma|amzn|ol\b/.test(family)
          ? ["dnf", "yum"]
          : /debian|ubuntu/.test(family)
            ? ["apt"]
            : [];
    return preferred.find((p) => installed.includes(p)) ?? installed[0];
}

function secureBootOf(value: string | undefined): HostFacts["secureBoot"] {
    if (value === undefined) return "unknown";
    if (/SecureBoot enabled/i.test(value) || value === "efivar:1") return "enabled";
    if (/SecureBoot disabled/i.test(value) || value === "efivar:0" || value === "no-efi") return "disabled";
    return "unknown";
}

/** `name version status` lines; dpkg's status must be `ii` (installed), rpm's lines say `ii` too. */
export function installedPackages(lines: string[]): Record<string, string> {
    const packages: Record<string, string> = {};
    for (const line of lines) {
        const [name, version, status] = line.split(/\s+/);
        if (name && version && status === "ii" && !line.includes("not installed")) packages[name] = version;
    }
    return packages;
}

function dockerOf(raw: Raw): DockerFacts | undefined {
    const path = raw.dockerPath ?? undefined;
    if (path === undefined) return undefined;
    const info = raw.dockerInfo ?? "";
    const [operatingSystem = "", securityOptions = "", runtimes = "", cgroupDriver = ""] = info.split("|");
    let runtimeNames: string[] = [];
    try {
        runtimeNames = runtimes ? Object.keys(JSON.parse(runtimes) as object) : [];
    } catch {
        runtimeNames = [];
    }
    return {
        path,
        clientVersion: /version (\d+\.\d+\.\d+)/.exec(raw.dockerClient ?? "")?.[1],
        serverVersion: /^(\d+\.\d+\.\d+)/.exec(raw.dockerServer ?? "")?.[1],
        snap: path.startsWith("/snap/") || /^docker\s/m.test(raw.snapDocker ?? ""),
        rootless: securityOptions.includes("rootless"),
        desktop: operatingSystem.includes("Docker Desktop"),
        runtimes: runtimeNames,
        cgroupDriver: cgroupDriver || undefined,
    };
}
