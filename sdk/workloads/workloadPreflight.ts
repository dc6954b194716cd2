import { Finding } from "../host/preflight";
import { HostFacts } from "../host/hostFacts";

/**
 * Checks a workload's driver capabilities against the host's graphics facts: a graphics or video
 * workload on a host without the NVIDIA Vulkan/EGL files or the NVENC/NVDEC libraries gets warnings.
 */
export function workloadPreflight(facts: HostFacts, capabilities: readonly string[]): Finding[] {
    const all = capabilities.includes("all");
    const findings: Finding[] = [];
    const g = facts.graphics;
    if (all || capabilities.includes("graphics") || capabilities.includes("display")) {
        if (g.vulkanIcdFiles.length === 0 || g.eglVendorFiles.length === 0 || !g.glcore) {
            findings.push({
                id: "graphics-libraries-missing",
                severity: "warning",
                message: `the host lacks parts of the driver's graphics stack (Vulkan ICD: ${g.vulkanIcdFiles.length ? "yes" : "no"}, EGL vendor file: ${g.eglVendorFiles.length ? "yes" : "no"}, libnvidia-glcore: ${g.glcore ? "yes" : "no"})`,
                fix: "install the full driver (not a compute-only or headless package) so OpenGL and Vulkan work in containers",
            });
        }
    }
    if ((all || capabilities.includes("video")) && (!g.encode || !g.cuvid)) {
        findings.push({
            id: "video-libraries-missing",
            severity: "warning",
            message: `the host lacks NVENC/NVDEC libraries (libnvidia-encode: ${g.encode ? "yes" : "no"}, libnvcuvid: ${g.cuvid ? "yes" : "no"})`,
            fix: "install the driver's encode/decode libraries (e.g. libnvidia-encode-<branch> and libnvidia-decode-<branch> on Ubuntu)",
        });
    }
    return findings;
}
