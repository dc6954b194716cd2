import { Finding } from "../host/preflight";
import { HostFacts } from "../host/hostFacts";

/**
 * Checks a workload's driver capabilities against the host's graphics facts: a graphics or video
 * workload on a host without the NVIDIA Vulkan/EGL files or the NVENC/NVDEC libraries gets warnings, and the
 * `opencl` preset one without the driver's OpenCL ICD or library.
 */
export function workloadPreflight(facts: HostFacts, capabilities: readonly string[], preset?: string): Finding[] {
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
    // OpenCL needs both, and neither comes from the toolkit: the ICD names the library the OpenCL loader opens.
    const ocl = g.opencl;
    if (preset === "opencl" && ocl !== undefined && !(ocl.icd && ocl.library)) {
        findings.push({
            id: "opencl-missing",
            severity: "warning",
            message: `the host lacks the driver's OpenCL parts (ICD /etc/OpenCL/vendors/nvidia.icd: ${ocl.icd ? "yes" : "no"}, libnvidia-opencl: ${ocl.library ? "yes" : "no"})`,
            fix: "install the driver's OpenCL parts (Ubuntu: libnvidia-compute-<branch>; Debian: nvidia-opencl-icd), so the toolkit can mount them",
        });
    }
    return findings;
}
