/**
 * Who owns the host's NVIDIA driver (issue 23), read from the probe's driver-ownership block (sdk/host/probe.sh,
 * between its `driver ownership` markers): a package from the distribution, a package from NVIDIA's CUDA repository,
 * NVIDIA's `.run` installer, nobody (a driver built and placed by other means), or no driver at all.
 * A package install over a driver no package owns breaks both (NVIDIA's CUDA installation guide, "Handle Conflicting
 * Installation Methods"), so the driver plan needs to know before it plans one.
 */

export const DRIVER_OWNERS = ["distro-package", "cuda-repo-package", "runfile", "no-package", "none"] as const;
export type DriverOwner = (typeof DRIVER_OWNERS)[number];

export interface DriverOwnership {
    /** Who put the driver there; `none` when the host has no NVIDIA driver. */
    owner: DriverOwner;
    /** The driver's version: the loaded kernel module's, else the library's on disk. */
    version: string | undefined;
    /** The package that owns libnvidia-ml, where one does. */
    package?: { name: string; version: string };
    /** The libnvidia-ml file the ownership was read from. */
    library?: string;
    /** The runfile's uninstaller (`/usr/bin/nvidia-uninstall`), where the runfile left one. */
    uninstaller?: string;
    /**
     * The probe read ownership itself (its driver-ownership block). False for a probe that predates the block:
     * the owner is then inferred from the driver packages it listed, and a runfile cannot be told from no package.
     */
    probed: boolean;
}

type Raw = Record<string, string | null | undefined>;

/** The driver facts the ownership read builds on (HostFacts' `driver`, `driverPackages` and `wsl2`). */
export interface DriverBasics {
    driver: { loadedVersion: string | undefined; libraryVersion: string | undefined };
    driverPackages: Record<string, string>;
}

// Packages built by NVIDIA (its CUDA repository): dpkg Maintainer `cudatools <cudatools@nvidia.com>`, rpm Vendor
// `NVIDIA Corporation`. Debian's own team is "Debian NVIDIA Maintainers <pkg-nvidia-devel@…>", so the address decides.
const NVIDIA_BUILT = /@nvidia\.com>?|^NVIDIA Corporation/i;

/** Reads the ownership fields of the probe's JSON (`raw`), given the driver facts parsed from the same probe. */
export function parseDriverOwnership(raw: Raw, basics: DriverBasics): DriverOwnership {
    const version = basics.driver.loadedVersion ?? basics.driver.libraryVersion;
    const probed = typeof raw.driverLibraryPath === "string";
    if (!probed) {
        const library = (raw.driverLibraries ?? "").split("\n").find((l) => /libnvidia-ml\.so\.\d+\.\d+/.test(l));
        return { ...inferredOwnership(basics, version), ...(library ? { library: library.trim() } : {}) };
    }

    const library = raw.driverLibraryPath || undefined;
    const uninstaller = (raw.driverInstaller ?? "")
        .split("\n")
        .map((l) => l.trim())
        .find((l) => l.endsWith("/nvidia-uninstall"));
    // `name version maintainer-or-vendor`, one line, from dpkg-query -S + -W or rpm -qf.
    const [name, pkgVersion, ...who] = (raw.driverLibraryOwner ?? "").trim().split(/\s+/);
    const owned = name !== undefined && name !== "" && pkgVersion !== undefined;
    if (version === undefined && library === undefined) return { owner: "none", version, probed };
    if (owned) {
        const owner = NVIDIA_BUILT.test(who.join(" ")) ? "cuda-repo-package" : "distro-package";
        return { owner, version, package: { name, version: pkgVersion }, library, probed };
    }
    const runfile = uninstaller !== undefined || /nvidia-installer/.test(raw.driverInstaller ?? "");
    return { owner: runfile ? "runfile" : "no-package", version, library, uninstaller, probed };
}

/** An older probe: packages it listed own the driver; a driver with none of them is owned by no package. */
function inferredOwnership(basics: DriverBasics, version: string | undefined): DriverOwnership {
    const packages = Object.entries(basics.driverPackages);
    if (packages.length > 0) {
        const [name, pkgVersion] = packages[0];
        const cudaRepo = packages.some(([n]) => /^cuda-drivers|^nvidia-open$|^kmod-nvidia-open-dkms$/.test(n));
        return { owner: cudaRepo ? "cuda-repo-package" : "distro-package", version, package: { name, version: pkgVersion }, probed: false };
    }
    return { owner: version === undefined ? "none" : "no-package", version, probed: false };
}

/** The owner in words, for previews and errors: `no package owns it`, `NVIDIA's runfile installed it`, … */
export function describeOwner(o: DriverOwnership): string {
    switch (o.owner) {
        case "distro-package":
            return `package ${o.package!.name} ${o.package!.version} from the distribution`;
        case "cuda-repo-package":
            return `package ${o.package!.name} ${o.package!.version} from NVIDIA's CUDA repository`;
        case "runfile":
            return "NVIDIA's runfile installed it, no package owns it";
        case "no-package":
            return "no package owns it";
        case "none":
            return "no driver";
    }
}

/** Whether a driver no package manager can replace: the runfile's, or one placed by other means. */
export function ownedByNoPackage(o: DriverOwnership): boolean {
    return o.owner === "runfile" || o.owner === "no-package";
}
