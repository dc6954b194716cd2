import { Finding } from "../host/preflight";
import { HostFacts } from "../host/hostFacts";

/**
 * The first toolkit release whose `nvidia-ctk cdi generate` writes CDI spec format v0.7.0, and the oldest
 * runtime of each kind that reads it (NVIDIA's release notes for 1.19.1; research-2026-11 Q2).
 */
export const CDI_V070_TOOLKIT = "1.19.1";
export const CDI_V070_READERS = { docker: "26.1.0", containerd: "1.7.16", crio: "1.30.0", podman: "5.1.0" } as const;

/**
 * Warnings for a node whose CDI spec the host's runtimes cannot read: toolkit ≥ 1.19.1 writes spec v0.7.0,
 * which older Docker, containerd, CRI-O and Podman refuse, so `--device nvidia.com/gpu=…` fails only at run
 * time. A warning, not an error: a runtime that is not used for CDI devices is unaffected.
 */
export function cdiSpecFormatFindings(facts: HostFacts, toolkitVersion: string, writesCdiSpec: boolean): Finding[] {
    if (!writesCdiSpec || !atLeast(toolkitVersion, CDI_V070_TOOLKIT)) return [];
    const installed: Array<[keyof typeof CDI_V070_READERS, string | undefined]> = [
        ["docker", facts.docker?.serverVersion ?? facts.docker?.clientVersion],
        ["containerd", facts.containerd?.version],
        ["crio", facts.crioVersion],
        ["podman", facts.podmanVersion],
    ];
    return installed
        .filter((entry): entry is [keyof typeof CDI_V070_READERS, string] => entry[1] !== undefined && !atLeast(entry[1], CDI_V070_READERS[entry[0]]))
        .map(([runtime, version]) => ({
            id: "cdi-spec-too-new",
            severity: "warning",
            message: `toolkit ${toolkitVersion} writes CDI spec format v0.7.0, which ${runtime} ${version} cannot read (it needs ${runtime} ≥ ${CDI_V070_READERS[runtime]})`,
            fix: `upgrade ${runtime} to ${CDI_V070_READERS[runtime]} or newer for CDI devices, or pin toolkit.version below ${CDI_V070_TOOLKIT}`,
        }));
}

/** `a >= b` for dotted versions; a package release suffix (`-1`) and `~` or `+` tails are ignored. */
function atLeast(a: string, b: string): boolean {
    const parts = (v: string) =>
        v
            .replace(/[-~+].*$/, "")
            .split(".")
            .map((n) => Number.parseInt(n, 10) || 0);
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
        if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
    }
    return true;
}
