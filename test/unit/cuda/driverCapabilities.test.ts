import { strict as assert } from "node:assert";
import { DEFAULT_CAPABILITIES, driverCapabilities, needsGraphicsLibraries } from "../../../sdk/cuda/driverCapabilities";
import { gpuArguments } from "../../../sdk/plan/dockerContainer";

describe("driver capabilities", () => {
    it("defaults to compute,utility", () => {
        assert.deepEqual(driverCapabilities(undefined), [...DEFAULT_CAPABILITIES]);
    });
    it("expands the presets, and an explicit list overrides a preset", () => {
        assert.deepEqual(driverCapabilities(undefined, "render"), ["utility", "graphics", "display"]);
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
        assert.throws(() => driverCapabilities(undefined, "gaming"), /not a workload preset — use one of: render, video, unreal-runtime, unreal-dev/);
    });
    it("renders as --gpus capabilities, NVIDIA_DRIVER_CAPABILITIES, or CDI devices", () => {
        assert.deepEqual(gpuArguments("gpus", ["all"], ["graphics", "video", "utility"]), ["--gpus", 'all,"capabilities=graphics,video,utility"']);
        assert.deepEqual(gpuArguments("gpus", ["1"], ["all"]), ["--gpus", "device=1"]);
        assert.deepEqual(gpuArguments("gpus", ["0", "1"], ["compute"]), ["--gpus", '"device=0,1",capabilities=compute']);
        assert.deepEqual(gpuArguments("runtime", ["1"], ["compute", "utility"]), [
            "--runtime=nvidia",
            "-e",
            "NVIDIA_VISIBLE_DEVICES=1",
            "-e",
            "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
        ]);
        assert.deepEqual(gpuArguments("cdi", ["1", "GPU-abc"], ["compute"]), ["--device", "nvidia.com/gpu=1", "--device", "nvidia.com/gpu=GPU-abc"]);
    });
    it("tells which capabilities need graphics or video libraries on the host", () => {
        assert.deepEqual(needsGraphicsLibraries(["compute", "utility"]), { graphics: false, video: false });
        assert.deepEqual(needsGraphicsLibraries(["graphics", "video"]), { graphics: true, video: true });
    });
});
