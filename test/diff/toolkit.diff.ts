import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { NVIDIA_CTK } from "./binaries";
import { fixtureCases, registerCases } from "./cases";
import { sample, toolkitSets } from "./generators";
import { DiffCase } from "./knownBugs";

/** `nvidia-ctk config default`: the file the packages' postinst writes, which `--set` then edits. */
function ctkDefault(): string | undefined {
    return fs.existsSync(NVIDIA_CTK) ? spawnSync(NVIDIA_CTK, ["config", "default"], { encoding: "utf8" }).stdout : undefined;
}

/** The default with values already set, as a host that was configured before looks. */
const edited = (text: string) =>
    text
        .replace("#no-cgroups = false", "no-cgroups = true")
        .replace('mode = "auto"', 'mode = "cdi"')
        .replace('#debug = "/var/log/nvidia-container-runtime.log"', 'debug = "/dev/null"');

registerCases("toolkit config.toml: nvidia-ctk v1.20.0 `config --set --in-place` vs renderToolkitConfig", () => {
    const base = ctkDefault();
    const starts = base === undefined ? [] : [base, edited(base)];
    return [
        ...fixtureCases("toolkit-config").map((c) => ({ ...c, input: c.input ?? base })),
        ...starts.flatMap((start, s) =>
            sample(toolkitSets, 30, 5 + s).map((flags, i): DiffCase => ({
                target: "toolkit-config",
                name: `generated ${s === 0 ? "on the default" : "on an edited file"} #${i + 1}`,
                input: start,
                flags,
            })),
        ),
    ];
});
