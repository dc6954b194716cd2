import { Command, Option } from "commander";
import { CompatibilityMode, checkImageAgainstDriver, parseCudaImage } from "../sdk/cuda/imagePolicy";
import { GpuConfigError } from "../sdk/errors";
import { validate } from "../sdk/validate";
import { CommandIo, checked, switchOption } from "./cliCommon";

interface CheckImageOptions {
    driver?: string;
    mode: CompatibilityMode;
    forwardCompat: boolean;
    requireCuda?: string;
}

/**
 * `gpu-node check-image IMAGE`: exit 0 when the image is pinned and, with `--driver`, runs on that
 * driver, or is not a CUDA image (a note says it was not checked; the components accept it too);
 * 1 when it is refused (`latest`, untagged) or needs a newer driver.
 */
export function checkImageCommand(io: CommandIo): Command {
    return new Command("check-image")
        .description("check that an image is pinned and that its CUDA runs on a driver, before anything is deployed")
        .argument("<image>", "the image reference, e.g. nvidia/cuda:12.4.1-base-ubuntu22.04")
        .addOption(
            new Option("--driver <version>", "the node's driver version, e.g. 580.95.05 (default: none, only check the tag)").argParser(
                checked((v) => validate(v, "driverVersion", "--driver")),
            ),
        )
        .addOption(
            new Option("--mode <mode>", "exact: the CUDA release's own minimum driver; minor-version: any driver of the CUDA major's family")
                .choices(Object.values(CompatibilityMode))
                .default(CompatibilityMode.Exact),
        )
        .addOption(
            switchOption(
                "--forward-compat",
                "the image carries NVIDIA's forward-compatibility libraries (cuda-compat; data-centre GPUs only, on a supported driver branch)",
            ),
        )
        .addOption(
            new Option(
                "--require-cuda <label>",
                'the image\'s NVIDIA_REQUIRE_CUDA label, e.g. "cuda>=12.4 brand=tesla,driver>=535,driver<536" (default: none)',
            ),
        )
        .action((image: string, options: CheckImageOptions) => {
            const parsed = parseCudaImage(image);
            const verdict = checkImageAgainstDriver(parsed, options.driver, {
                mode: options.mode,
                forwardCompatible: options.forwardCompat,
                requireCuda: options.requireCuda,
            });
            if (verdict.verdict === "incompatible") throw new GpuConfigError("image", verdict.reason, verdict.fix ?? "pick another image");
            if (verdict.verdict === "ok") io.out.write(`ok: ${verdict.reason}\n`);
            else if (options.driver === undefined) io.out.write(`allowed: ${image} is pinned; ${verdict.reason}\n`);
            else
                io.out.write(
                    `note: ${verdict.reason}, so it was not checked against driver ${options.driver}; the components accept it too — ${verdict.fix ?? "check it by hand"}\n`,
                );
        });
}
