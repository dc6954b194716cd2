import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { parseHostFacts } from "../../../sdk/host/hostFacts";
import { workloadPreflight } from "../../../sdk/workloads/workloadPreflight";
import { REPO_ROOT, probeFixture } from "../../helpers/paths";

const ICD = "/etc/OpenCL/vendors/nvidia.icd";
// Debian keeps it under nvidia/current (nvidia-opencl-icd), Ubuntu beside libcuda (libnvidia-compute-<branch>).
const LIB = "/usr/lib/x86_64-linux-gnu/nvidia/current/libnvidia-opencl.so.1";
/** The recorded H100's facts with the probe's OpenCL field as given (undefined: a probe from before the field existed). */
const h100With = (openclFiles: string | undefined) => {
    const raw = JSON.parse(probeFixture("h100-ubuntu2404-root.json")) as Record<string, unknown>;
    if (openclFiles !== undefined) raw.openclFiles = openclFiles;
    return parseHostFacts(JSON.stringify(raw));
};
const opencl = ["compute", "utility", "graphics"];

/**
 * OpenCL in a container needs two things of the host (issue 27): the driver's ICD file, which toolkit 1.20 mounts
 * (CDI specs; the legacy runtime with graphics), and libnvidia-opencl, which `compute` brings. The preview says which is missing.
 */
describe("workload preflight: the opencl preset checks the host's OpenCL ICD and libnvidia-opencl", () => {
    it("warns naming each missing part and where it comes from", () => {
        const none = workloadPreflight(h100With(""), opencl, "opencl");
        assert.deepEqual(
            none.map((f) => f.id),
            ["opencl-missing"],
        );
        assert.match(none[0].message, /the host lacks the driver's OpenCL parts \(ICD \/etc\/OpenCL\/vendors\/nvidia\.icd: no, libnvidia-opencl: no\)/);
        assert.match(none[0].fix, /install the driver's OpenCL parts \(Ubuntu: libnvidia-compute-<branch>; Debian: nvidia-opencl-icd\)/);
        assert.match(workloadPreflight(h100With(ICD), opencl, "opencl")[0].message, /ICD \/etc\/OpenCL\/vendors\/nvidia\.icd: yes, libnvidia-opencl: no/);
        assert.match(workloadPreflight(h100With(LIB), opencl, "opencl")[0].message, /ICD \/etc\/OpenCL\/vendors\/nvidia\.icd: no, libnvidia-opencl: yes/);
    });

    it("is quiet with both, for other presets, and for a probe that did not look (an older recorded probe)", () => {
        assert.deepEqual(workloadPreflight(h100With(`${ICD}\n${LIB}`), opencl, "opencl"), []);
        assert.deepEqual(workloadPreflight(h100With(""), opencl, "render"), []);
        assert.deepEqual(workloadPreflight(h100With(""), opencl), []);
        assert.deepEqual(workloadPreflight(h100With(undefined), opencl, "opencl"), []);
    });

    it("the probe looks for both (run here: a host with neither)", () => {
        const raw = JSON.parse(execFileSync("sh", [path.join(REPO_ROOT, "sdk/host/probe.sh")], { encoding: "utf8" })) as Record<string, unknown>;
        assert.equal(raw.openclFiles, "");
        assert.deepEqual(parseHostFacts(JSON.stringify(raw)).graphics.opencl, { icd: false, library: false });
    });
});
