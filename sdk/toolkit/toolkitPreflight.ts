import { Finding, Severity, finding } from "../host/preflight";
import { HostFacts } from "../host/hostFacts";

/** Distributions NVIDIA publishes Container Toolkit packages for, by os-release ID. */
export const SUPPORTED_DISTROS: Readonly<Record<string, string[]>> = {
    ubuntu: ["20.04", "22.04", "24.04", "26.04"],
    debian: ["11", "12", "13"],
    rhel: ["8", "9", "10"],
    rocky: ["8", "9", "10"],
    almalinux: ["8", "9", "10"],
    centos: ["8", "9", "10"],
    ol: ["8", "9"],
    fedora: [],
    amzn: ["2", "2023"],
    sles: ["15"],
    "opensuse-leap": ["15"],
};

/** The host can take NVIDIA's Container Toolkit packages: a distribution NVIDIA publishes them for, and a package manager. */
export function toolkitPlatformFindings(facts: HostFacts): Finding[] {
    const findings: Finding[] = [];
    const add = (id: string, severity: Severity, message: string, fix: string) => findings.push(finding(id, severity, message, fix));
    const distro = distroSupport(facts);
    if (distro === "unsupported") {
        add(
            "unsupported-distro",
            "error",
            `${facts.os.prettyName || facts.os.id || "this OS"} is not a distribution NVIDIA publishes Container Toolkit packages for`,
            `use one of: ${Object.keys(SUPPORTED_DISTROS).join(", ")} (or WSL2)`,
        );
    } else if (distro === "untested-version") {
        add(
            "untested-distro-version",
            "warning",
            `${facts.os.id} ${facts.os.versionId} is not in NVIDIA's tested versions (${SUPPORTED_DISTROS[facts.os.id]?.join(", ")})`,
            "expect the toolkit to work, but pin versions and check the result",
        );
    }
    if (facts.packageManager === undefined) {
        add("no-package-manager", "error", "no apt-get, dnf or zypper found", "install the toolkit packages by hand, or use a supported distribution");
    }
    return findings;
}

/** The toolkit's four packages as found: at more than one version, the plan's install fixes it. */
export function toolkitPackageFindings(facts: HostFacts): Finding[] {
    const findings: Finding[] = [];
    const add = (id: string, severity: Severity, message: string, fix: string) => findings.push(finding(id, severity, message, fix));
    const toolkitVersions = new Set(Object.values(facts.toolkitPackages));
    if (toolkitVersions.size > 1) {
        // A warning, not an error: installing all four at one version is what the plan does, so it fixes this host.
        add(
            "toolkit-mixed-versions",
            "warning",
            `the toolkit packages are at different versions: ${Object.entries(facts.toolkitPackages)
                .map(([p, v]) => `${p} ${v}`)
                .join(", ")}`,
            "the plan installs all four at toolkit.version, which fixes this",
        );
    }
    return findings;
}

function distroSupport(facts: HostFacts): "supported" | "untested-version" | "unsupported" {
    if (facts.wsl2) return "supported";
    const versions = SUPPORTED_DISTROS[facts.os.id];
    if (versions === undefined) {
        return facts.os.idLike.some((like) => ["debian", "ubuntu", "rhel", "fedora", "suse"].includes(like)) ? "untested-version" : "unsupported";
    }
    const major = facts.os.versionId.split(".")[0];
    if (versions.length === 0 || versions.includes(facts.os.versionId) || versions.includes(major)) return "supported";
    return "untested-version";
}
