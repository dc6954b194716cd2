import { CompatibilityMode, checkImageAgainstDriver, parseCudaImage } from "../sdk/cuda/imagePolicy";
import { GpuConfigError } from "../sdk/errors";
import { validate, validateChoice } from "../sdk/validate";
import { booleanFlag, parseFlags, stringFlag } from "./flags";

const FLAGS = { driver: "string", mode: "string", "forward-compat": "boolean", "require-cuda": "string" } as const;

/**
 * `gpu-node check-image IMAGE [--driver VERSION] [--mode exact|minor-version] [--forward-compat] [--require-cuda LABEL]`:
 * exit 0 when the image is pinned (and runs on the driver, if given); otherwise non-zero with one line.
 */
export function checkImageCommand(args: string[], out: NodeJS.WritableStream): number {
    const flags = parseFlags(args, FLAGS);
    const [image, extra] = flags.positional;
    if (image === undefined || extra !== undefined) throw new GpuConfigError("check-image", "takes one image", "write gpu-node check-image nvidia/cuda:12.4.1-base-ubuntu22.04 --driver 550.54.15");
    const driver = stringFlag(flags, "driver");
    if (driver !== undefined) validate(driver, "driverVersion", "--driver");
    const mode = validateChoice(stringFlag(flags, "mode") ?? CompatibilityMode.Exact, Object.values(CompatibilityMode), "--mode");
    const parsed = parseCudaImage(image);
    const verdict = checkImageAgainstDriver(parsed, driver, { mode, forwardCompatible: booleanFlag(flags, "forward-compat"), requireCuda: stringFlag(flags, "require-cuda") });
    if (verdict.verdict === "incompatible" || (verdict.verdict === "unknown" && driver !== undefined)) {
        throw new GpuConfigError("image", verdict.reason, verdict.fix ?? "check the image");
    }
    out.write(`${verdict.verdict === "ok" ? "ok" : "allowed"}: ${verdict.reason}\n`);
    return 0;
}
