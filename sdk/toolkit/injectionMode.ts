import { GpuConfigError } from "../errors";
import { Finding } from "../host/preflight";
import { RUNTIME_MODES, RuntimeModeName, TOOLKIT_CONFIG, configuredRuntimeMode } from "./toolkitConfig";
import { validateChoice } from "../validate";
import { atLeast } from "../versions";

/**
 * The first toolkit release that knows each mode; older runtimes refuse every container with
 * `invalid runtime mode`. From the toolkit's sources: `cdi` is in the runtime's mode switch at v1.12.0,
 * `jit-cdi` is not at v1.17.8 and is the default from v1.18.0 ("Default to jit-cdi mode", 1.18.0-rc.1).
 */
export const MODE_MINIMUM_TOOLKIT: Readonly<Record<RuntimeModeName, string | undefined>> = {
    auto: undefined,
    legacy: undefined,
    cdi: "1.12.0",
    "jit-cdi": "1.18.0",
};

/** From this release `auto` resolves to `jit-cdi` on NVML and WSL2 hosts; before it, to `legacy` (`internal/info/auto.go`). */
export const JIT_CDI_DEFAULT_TOOLKIT = "1.18.0";

/** The injection mode a node's containers get, as the plan leaves the toolkit config. */
export interface InjectionModeData {
    /** The mode in effect for containers started through the nvidia runtime: `jit-cdi`, `cdi`, `legacy` (or `csv` on Tegra). */
    mode: string;
    /** The value of `nvidia-container-runtime.mode` in config.toml once the plan has run, e.g. `auto`. */
    configured: string;
    /** Where `configured` comes from: `toolkit.mode`, `host config.toml` or `package default`. */
    source: string;
    /** Why this mode, and what it means for the node's containers. */
    reason: string;
}

/**
 * Checks `toolkit.mode` against the toolkit version the plan installs. Undefined stays undefined: the host's
 * setting is left as it is.
 */
export function validateRuntimeMode(mode: string | undefined, toolkitVersion: string, field = "toolkit.mode"): RuntimeModeName | undefined {
    if (mode === undefined) return undefined;
    const chosen = validateChoice(mode, RUNTIME_MODES, field);
    const minimum = MODE_MINIMUM_TOOLKIT[chosen];
    if (minimum !== undefined && !atLeast(toolkitVersion, minimum)) {
        throw new GpuConfigError(
            field,
            `${chosen} needs toolkit ${minimum} or newer, and toolkit.version is ${toolkitVersion} (its runtime would refuse every container with "invalid runtime mode")`,
            `set toolkit.version to ${minimum}-1 or newer, or choose ${chosen === "jit-cdi" ? "cdi, legacy or auto" : "legacy or auto"}`,
        );
    }
    return chosen;
}

/**
 * The injection mode in effect once the plan has run: the chosen `toolkit.mode`, else the mode the host's
 * config.toml sets, else the package's `auto`; `auto` resolved as the installed toolkit version resolves it.
 */
export function injectionMode(toolkitVersion: string, chosen: RuntimeModeName | undefined, liveConfig: string | undefined): InjectionModeData {
    const onHost = liveConfig === undefined ? undefined : configuredRuntimeMode(liveConfig, TOOLKIT_CONFIG);
    const configured = chosen ?? onHost ?? "auto";
    const source = chosen !== undefined ? "toolkit.mode" : onHost !== undefined ? "host config.toml" : "package default";
    const jitDefault = atLeast(toolkitVersion, JIT_CDI_DEFAULT_TOOLKIT);
    const mode = configured !== "auto" ? configured : jitDefault ? "jit-cdi" : "legacy";
    const setBy =
        source === "toolkit.mode"
            ? `toolkit.mode sets nvidia-container-runtime.mode = "${configured}"`
            : source === "host config.toml"
              ? `the host's config.toml sets nvidia-container-runtime.mode = "${configured}" and the plan leaves it (set toolkit.mode to choose)`
              : `the package's config.toml sets nvidia-container-runtime.mode = "auto"`;
    const resolved =
        configured !== "auto"
            ? ""
            : jitDefault
              ? `; toolkit ${toolkitVersion} resolves "auto" to jit-cdi (csv on Tegra; cdi for a container that names only CDI devices), while \`docker run --gpus\` without the nvidia runtime still goes through the legacy hook`
              : `; toolkit ${toolkitVersion} resolves "auto" to legacy (csv on Tegra; cdi for a container that names only CDI devices); toolkit ≥ ${JIT_CDI_DEFAULT_TOOLKIT} resolves it to jit-cdi`;
    const requirement =
        mode === "jit-cdi" || mode === "cdi"
            ? "; the runtime does not check an image's NVIDIA_REQUIRE_CUDA in this mode (NVIDIA/nvidia-container-toolkit#1470): DockerGpuContainer and `gpu-node check-image` check it at preview"
            : "";
    return { mode, configured, source, reason: `${setBy}${resolved}${requirement}` };
}

/**
 * Warnings for a chosen mode. `docker run --gpus` without the nvidia runtime calls NVIDIA's prestart hook
 * directly, and the hook refuses every mode but legacy (`assertModeIsLegacy`, hook_config.go at v1.20.0):
 * with `cdi` or `jit-cdi` set, such containers fail to start unless nvidia is Docker's default runtime.
 * `dockerGpusFlag`: the runtime's containers may be started that way (its engine says).
 */
export function runtimeModeFindings(chosen: RuntimeModeName | undefined, dockerGpusFlag: boolean, nvidiaIsDefault: boolean): Finding[] {
    if ((chosen !== "cdi" && chosen !== "jit-cdi") || !dockerGpusFlag || nvidiaIsDefault) return [];
    return [
        {
            id: "toolkit-mode-gpus-flag",
            severity: "warning",
            message: `with toolkit.mode ${chosen}, \`docker run --gpus\` fails ("invoking the NVIDIA Container Runtime Hook directly … is not supported"): NVIDIA's hook runs only in legacy mode`,
            fix: "start GPU containers with --runtime=nvidia or --device nvidia.com/gpu=… (DockerGpuContainer gpuSelection runtime or cdi), set setAsDefault, or choose toolkit.mode auto",
        },
    ];
}
