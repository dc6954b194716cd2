import { strict as assert } from "node:assert";
import { DEFAULT_CAPABILITIES, driverCapabilities, needsGraphicsLibraries, requestedCapabilities } from "../../../sdk/cuda/driverCapabilities";
import { capabilityNote, gpuArguments } from "../../../sdk/workloads/dockerContainer";

describe("driver capabilities", () => {
    it("defaults to compute,utility", () => {
        assert.deepEqual(driverCapabilities(undefined), [...DEFAULT_CAPABILITIES]);
    });
    it("expands the presets, and an explicit list overrides a preset", () => {
        assert.deepEqual(driverCapabilities(undefined, "render"), ["compute", "utility", "graphics", "display"]);
        // OpenCL: compute brings libnvidia-opencl, graphics makes the runtime mount the host's ICD (toolkit >= 1.20).
        assert.deepEqual(driverCapabilities(undefined, "opencl"), ["compute", "utility", "graphics"]);
        assert.deepEqual(driverCapabilities(undefined, "video"), ["compute", "utility", "video"]);
        assert.deepEqual(driverCapabilities(undefined, "unreal-runtime"), ["utility", "graphics", "video"]);
        assert.deepEqual(driverCapabilities(undefined, "unreal-dev"), ["compute", "utility", "graphics", "video"]);
        assert.deepEqual(driverCapabilities(["compute"], "render"), ["compute"]);
    });
    it("accepts all alone and refuses unknown names with the supported list", () => {
        assert.deepEqual(driverCapabilities(["all"]), ["all"]);
        assert.throws(() => driverCapabilities(["all", "video"]), /cannot be combined/);
        assert.throws(
            () => driverCapabilities(["opengl"]),
            /"opengl" is not a driver capability — use any of: compute, utility, graphics, video, display, compat32, ngx, or "all"/,
        );
        assert.throws(() => driverCapabilities(undefined, "gaming"), /not a workload preset — use one of: render, opencl, video, unreal-runtime, unreal-dev/);
    });
    it("renders as --gpus capabilities, NVIDIA_DRIVER_CAPABILITIES, or CDI devices", () => {
        assert.deepEqual(gpuArguments("gpus", ["all"], ["graphics", "video", "utility"]), ["--gpus", 'all,"capabilities=graphics,video,utility"']);
        // `all` is not a capability Docker's nvidia driver knows: a bare --gpus would leave the toolkit's compute,utility.
        assert.deepEqual(gpuArguments("gpus", ["1"], ["all"]), ["--gpus", "device=1", "-e", "NVIDIA_DRIVER_CAPABILITIES=all"]);
        assert.deepEqual(gpuArguments("gpus", ["0", "1"], ["compute"]), ["--gpus", '"device=0,1",capabilities=compute']);
        assert.deepEqual(gpuArguments("runtime", ["1"], ["compute", "utility"]), [
            "--runtime=nvidia",
            "-e",
            "NVIDIA_VISIBLE_DEVICES=1",
            "-e",
            "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
        ]);
        assert.deepEqual(gpuArguments("cdi", ["1", "GPU-abc"], ["compute"]), [
            "--device",
            "nvidia.com/gpu=1",
            "--device",
            "nvidia.com/gpu=GPU-abc",
            "-e",
            "NVIDIA_DRIVER_CAPABILITIES=compute",
        ]);
    });
    it("sends no capabilities unless asked, so the image's own NVIDIA_DRIVER_CAPABILITIES stands (Vulkan/GL images set theirs)", () => {
        assert.equal(requestedCapabilities(undefined, undefined), undefined);
        assert.deepEqual(requestedCapabilities(undefined, "video"), ["compute", "utility", "video"]);
        assert.deepEqual(gpuArguments("gpus", ["all"], undefined), ["--gpus", "all"]);
        assert.deepEqual(gpuArguments("runtime", ["all"], undefined), ["--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=all"]);
        assert.deepEqual(gpuArguments("cdi", ["all"], undefined), ["--device", "nvidia.com/gpu=all"]);
        assert.match(capabilityNote("gpus", undefined)!, /image's own NVIDIA_DRIVER_CAPABILITIES applies/);
    });
    it("gives a companion container (signalling, TURN) no GPU in none mode", () => {
        assert.deepEqual(gpuArguments("none", ["all"], ["compute"]), []);
        assert.equal(capabilityNote("none", undefined), undefined);
    });
    it("maps ngx in gpus mode to the variable, naming why: Docker's nvidia device driver knows six capabilities", () => {
        assert.deepEqual(gpuArguments("gpus", ["0"], ["graphics", "ngx"]), ["--gpus", "device=0", "-e", "NVIDIA_DRIVER_CAPABILITIES=graphics,ngx"]);
        assert.match(capabilityNote("gpus", ["graphics", "ngx"])!, /knows only compute, compat32, graphics, utility, video, display/);
        assert.equal(capabilityNote("runtime", ["graphics", "ngx"]), undefined);
    });
    it("tells which capabilities need graphics or video libraries on the host", () => {
        assert.deepEqual(needsGraphicsLibraries(["compute", "utility"]), { graphics: false, video: false });
        assert.deepEqual(needsGraphicsLibraries(["graphics", "video"]), { graphics: true, video: true });
    });
});
