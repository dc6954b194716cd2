import { hasCredentials } from "../secrets/credentials";
import { parseToml } from "../toml/parseToml";
import { TomlTable, emitGoToml, isTable } from "../toml/goTomlEmitter";
import { tableAt } from "../toml/tables";
import { validate } from "../validate";
import { RenderResult, renderResult } from "../steps/renderResult";
import { validateRuntimeName, validateRuntimePath } from "./runtimeNames";

/** CRI-O reads `crio.conf.d`; nvidia-ctk v1.18.0–v1.19.0 wrote to `/etc/crio/conf.d`, which it never reads (§11 #6, #18). */
export const CRIO_DROP_IN = "/etc/crio/crio.conf.d/99-nvidia.toml";
export const CRIO_CONFIG = "/etc/crio/crio.conf";

/** Runtime options that belong to one runtime's own state and must not be copied to another (§11 #14). */
const NOT_INHERITED = ["runtime_root", "runtime_path", "runtime_config_path"];

/** What to register in CRI-O; mirrors `nvidia-ctk runtime configure --runtime=crio`. */
export interface CrioConfigOptions {
    /** The config the runtime options are inherited from, for messages. Default `/etc/crio/crio.conf`. */
    configPath?: string;
    /** The drop-in this library owns. Default `/etc/crio/crio.conf.d/99-nvidia.toml`. */
    dropInPath?: string;
    /** Runtime name. Default `nvidia`. */
    runtimeName?: string;
    /** Absolute path of the runtime. Default `/usr/bin/nvidia-container-runtime`. */
    runtimePath?: string;
    /** Make it CRI-O's `default_runtime`. */
    setAsDefault?: boolean;
    /** The drop-in as it is on the host (undefined: absent), so an applied drop-in renders as unchanged. */
    currentDropIn?: string;
}

/**
 * Renders the CRI-O drop-in. `current` is the source config (`crio.conf`, or `crio status config`
 * output); CRI-O itself is never edited. The runtime copies the default runtime's options, then
 * runc's, then crun's, except the keys that name that runtime's own state.
 */
export function renderCrioConfig(
    current: string | undefined,
    options: CrioConfigOptions = {},
): RenderResult & { inheritedFrom?: string; holdsCredentials?: boolean } {
    const configPath = validate(options.configPath ?? CRIO_CONFIG, "absolutePath", "configPath");
    const dropInPath = validate(options.dropInPath ?? CRIO_DROP_IN, "absolutePath", "dropInPath");
    const name = validateRuntimeName(options.runtimeName ?? "nvidia", "runtimeName");
    const runtimePath = validateRuntimePath(options.runtimePath ?? "/usr/bin/nvidia-container-runtime", "runtimePath", true);

    const source = current === undefined ? {} : parseToml(current, configPath);
    const sourceRuntime = tableAt(source, ["crio", "runtime"]);
    const sourceRuntimes = tableAt(sourceRuntime, ["runtimes"]);
    const defaultName = typeof sourceRuntime.default_runtime === "string" ? sourceRuntime.default_runtime : undefined;
    const inheritedFrom = [defaultName && !defaultName.startsWith("nvidia") ? defaultName : undefined, "runc", "crun"].find(
        (c): c is string => c !== undefined && isTable(sourceRuntimes[c]),
    );

    const entry: TomlTable = {};
    if (inheritedFrom) {
        for (const [key, value] of Object.entries(sourceRuntimes[inheritedFrom] as TomlTable)) {
            if (!NOT_INHERITED.includes(key)) entry[key] = value;
        }
    }
    entry.runtime_path = runtimePath;
    entry.runtime_type = "oci";
    const runtime: TomlTable = { runtimes: { [name]: entry } };
    if (options.setAsDefault) runtime.default_runtime = name;

    const summary = [`runtimes.${name}: ${inheritedFrom ? `options copied from ${inheritedFrom}` : "no runtime to copy from"}, runtime_path ${runtimePath}`];
    if (options.setAsDefault) summary.push(`default_runtime: ${name}`);
    const result = renderResult(dropInPath, options.currentDropIn, emitGoToml({ crio: { runtime } }), summary);
    // A copied entry may carry credentials (a proxy URL with user:pass in monitor_env): the plan writes such a drop-in 0600.
    const holdsCredentials = hasCredentials(entry) ? { holdsCredentials: true } : {};
    return inheritedFrom ? { ...result, inheritedFrom, ...holdsCredentials } : { ...result, ...holdsCredentials };
}
