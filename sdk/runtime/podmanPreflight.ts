import { atLeast } from "../versions";
import { CDI_V070_READERS, CDI_V070_TOOLKIT } from "./cdiPreflight";
import { HostFacts } from "../host/hostFacts";
import { Finding } from "../host/preflight";

/** The CDI specs the toolkit writes (`nvidia-ctk cdi generate`, nvidia-cdi-refresh), read for their format version. */
export const PODMAN_CDI_SPECS = ["/etc/cdi/nvidia.yaml", "/var/run/cdi/nvidia.yaml"];

/**
 * What a Podman workload needs on the host: podman itself, and a CDI spec it can read. Toolkit ≥ 1.19.1 writes
 * format 0.7.0, which Podman < 5.1.0 refuses (NVIDIA/nvidia-container-toolkit#1940: Debian 12's Podman 4.3.1), so
 * `podman run --device nvidia.com/gpu=…` fails only at run time; the spec's own cdiVersion says it at preview.
 */
export function podmanWorkloadFindings(facts: HostFacts, specs: Record<string, string | undefined>): Finding[] {
    if (facts.podmanVersion === undefined)
        return [
            {
                id: "podman-missing",
                severity: "error",
                message: "podman is not installed on the host",
                fix: "install it (apt-get install podman, dnf install podman)",
            },
        ];
    if (facts.cdiSpecs.length === 0)
        return [
            {
                id: "cdi-spec-missing",
                severity: "warning",
                message: "the host has no CDI spec (/etc/cdi or /var/run/cdi nvidia.yaml): podman cannot resolve nvidia.com/gpu devices",
                fix: "set the node up with GpuNode runtime podman (it writes the spec), or run nvidia-ctk cdi generate --output=/var/run/cdi/nvidia.yaml",
            },
        ];
    const findings: Finding[] = [];
    for (const path of PODMAN_CDI_SPECS) {
        const version = /^cdiVersion:\s*["']?([0-9.]+)["']?\s*$/m.exec(specs[path] ?? "")?.[1];
        if (version === undefined || !atLeast(version, "0.7.0") || atLeast(facts.podmanVersion, CDI_V070_READERS.podman)) continue;
        findings.push({
            id: "cdi-spec-too-new",
            severity: "warning",
            message: `${path} is CDI spec format ${version}, which podman ${facts.podmanVersion} cannot read (it needs podman ≥ ${CDI_V070_READERS.podman}): podman run --device nvidia.com/gpu=… will fail`,
            fix: `upgrade podman to ${CDI_V070_READERS.podman} or newer, or pin the node's toolkit.version below ${CDI_V070_TOOLKIT} so its spec is written in an older format`,
        });
    }
    return findings;
}
