import * as path from "node:path";
import { GpuConfigError } from "../errors";
import { ensureImport } from "../toml/ensureImport";
import { parseToml } from "../toml/parseToml";
import { TomlTable, emitGoToml, isTable } from "../toml/goTomlEmitter";
import { copyTable, ensureTable, tableAt } from "../toml/tables";
import { validate } from "../validate";
import { RenderResult, renderResult } from "../steps/renderResult";
import { validateRuntimeName, validateRuntimePath } from "./runtimeNames";

export const CONTAINERD_CONFIG = "/etc/containerd/config.toml";
export const CONTAINERD_DROP_IN = "/etc/containerd/conf.d/99-nvidia.toml";

/** What to register in containerd; mirrors `nvidia-ctk runtime configure --runtime=containerd`. */
export interface ContainerdConfigOptions {
    /** The top-level config on the host. Default `/etc/containerd/config.toml`. */
    configPath?: string;
    /** The drop-in this library owns (`--drop-in-config`). Default `/etc/containerd/conf.d/99-nvidia.toml`; `imports` names `<its dir>/*.toml`. */
    dropInPath?: string;
    /** Runtime name (`--nvidia-runtime-name`). Default `nvidia`. */
    runtimeName?: string;
    /** Absolute path of the runtime (`--nvidia-runtime-path`). Default `/usr/bin/nvidia-container-runtime`. */
    runtimePath?: string;
    /** Make it the CRI default runtime (`--set-as-default`). When false, a default naming this runtime is removed from the drop-in. */
    setAsDefault?: boolean;
    /** Set `enable_cdi = true` on the CRI plugin (`--cdi.enabled`). */
    enableCdi?: boolean;
    /**
     * The output of `containerd config dump` on the host. When given, runtime options are inherited from
     * the effective config, not only from what the file spells out, so built-in defaults such as runc's
     * entry are not lost (nvidia-ctk-behaviour §11 #9 and #20).
     */
    effectiveConfig?: string;
    /** The drop-in as it is on the host now (undefined: absent), so that an applied drop-in previews as unchanged. */
    currentDropIn?: string;
}

export interface ContainerdRenderResult {
    /** Config version of the drop-in: always the root file's (2 for containerd 1.x configs, 3 or 4 for 2.x); a missing root takes the dump's. */
    version: number;
    /** The CRI runtime plugin the runtime was added to. */
    criPlugin: string;
    /** The runtime whose options the nvidia runtime copies, or undefined for the built-in fallback. */
    inheritedFrom: string | undefined;
    topLevel: RenderResult;
    dropIn: RenderResult;
}

/** Config version 4 (containerd 2.3) moved server settings into plugins; the CRI runtime plugin kept its name and layout. */
const CRI_PLUGIN_BY_VERSION: Record<number, string> = { 2: "io.containerd.grpc.v1.cri", 3: "io.containerd.cri.v1.runtime", 4: "io.containerd.cri.v1.runtime" };
const CRI_PLUGIN_NAMES = ["cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"];
const RUNC_V2 = "io.containerd.runc.v2";

export function renderContainerdConfig(current: string | undefined, options: ContainerdConfigOptions = {}): ContainerdRenderResult {
    const configPath = validate(options.configPath ?? CONTAINERD_CONFIG, "absolutePath", "configPath");
    const dropInPath = validate(options.dropInPath ?? CONTAINERD_DROP_IN, "absolutePath", "dropInPath");
    const name = validateRuntimeName(options.runtimeName ?? "nvidia", "runtimeName");
    const runtimePath = validateRuntimePath(options.runtimePath ?? "/usr/bin/nvidia-container-runtime", "runtimePath", true);

    const file = current === undefined ? {} : parseToml(current, configPath);
    const fileVersion = configVersion(file, configPath);
    refuseDisabledCri(file, configPath);

    const effective = options.effectiveConfig === undefined ? undefined : parseToml(options.effectiveConfig, "containerd config dump");
    const effectiveVersion = effective === undefined ? undefined : configVersion(effective, "containerd config dump");
    // The drop-in takes the root file's version, never the running containerd's: containerd 2.3 dumps version 4 over
    // a version-2 root, and a drop-in above its root stops containerd or hides the root's settings (NVIDIA/aicr#1688).
    // Only a missing or empty root takes the dump's version, and the root written for it says the same (§11 #7).
    const version = Object.keys(file).length === 0 && effectiveVersion !== undefined ? effectiveVersion : fileVersion;
    const criPlugin = CRI_PLUGIN_BY_VERSION[version];
    const effectivePlugin = effectiveVersion === undefined ? undefined : CRI_PLUGIN_BY_VERSION[effectiveVersion];
    const summary: string[] = [];

    // The whole CRI section is copied: containerd < 2.1 replaces plugin sections on import (containerd/containerd#5837).
    // It comes from the dump when the dump spells it at the drop-in's plugin, else from the file (a v2 root on 2.x).
    const sectionFromDump = effective !== undefined && effectivePlugin === criPlugin;
    const cri = copyTable(tableAt(sectionFromDump ? effective : file, ["plugins", criPlugin]));
    const containerd = ensureTable(cri, "containerd");
    const runtimes = ensureTable(containerd, "runtimes");

    // Runtime options are inherited from the effective config when there is one, built-in defaults included (§11 #9).
    const inheritFrom = effective === undefined ? containerd : tableAt(effective, ["plugins", effectivePlugin as string, "containerd"]);
    const inheritable = tableAt(inheritFrom, ["runtimes"]);
    const defaultName = typeof inheritFrom.default_runtime_name === "string" ? inheritFrom.default_runtime_name : undefined;
    const candidates = [defaultName && !defaultName.startsWith("nvidia") ? defaultName : undefined, "runc", "crun"];
    const inheritedFrom = candidates.find((c): c is string => c !== undefined && isTable(inheritable[c]));
    const entry: TomlTable = inheritedFrom ? copyTable(inheritable[inheritedFrom] as TomlTable) : fallbackRuntime(version);
    if (typeof entry.runtime_type !== "string" || entry.runtime_type === "") entry.runtime_type = RUNC_V2; // #1956
    ensureTable(entry, "options").BinaryName = runtimePath;
    runtimes[name] = entry;
    summary.push(`runtimes.${name}: ${inheritedFrom ? `options copied from ${inheritedFrom}` : "built-in runc defaults"}, BinaryName ${runtimePath}`);

    if (!isTable(runtimes.runc) && !sectionFromDump) {
        // Keep containerd's built-in runc: < 2.1 would drop it when this drop-in replaces the CRI section (§11 #20).
        runtimes.runc = { runtime_type: RUNC_V2 };
        summary.push("runtimes.runc: kept as containerd's built-in default");
    }

    if (options.setAsDefault) {
        containerd.default_runtime_name = name;
        summary.push(`default_runtime_name: ${name}`);
    } else if (containerd.default_runtime_name === name) {
        // From the dump, the section must stay a fixed point: deleting the key would let the next dump show
        // containerd's own default and the next render differ. Name the root file's default (else runc) instead.
        const rootDefault = tableAt(file, ["plugins", criPlugin, "containerd"]).default_runtime_name;
        if (sectionFromDump) containerd.default_runtime_name = typeof rootDefault === "string" && rootDefault !== name ? rootDefault : "runc";
        else delete containerd.default_runtime_name;
        summary.push(`default_runtime_name: no longer ${name}`);
    }
    const effectiveCri = effective === undefined ? undefined : tableAt(effective, ["plugins", effectivePlugin as string]);
    if (options.enableCdi && effectiveCri !== undefined && (effectiveVersion as number) >= 3 && !("enable_cdi" in effectiveCri)) {
        // containerd 2.4 removed enable_cdi (CDI is always on): its dump has no such key, and writing it logs `Ignoring unknown key`.
        delete cri.enable_cdi;
        summary.push("enable_cdi: not written, CDI is always on in this containerd");
    } else if (options.enableCdi) {
        cri.enable_cdi = true;
        summary.push("enable_cdi: true");
    }

    const dropInText = emitGoToml({ version, plugins: { [criPlugin]: cri } });
    const pattern = `${path.posix.dirname(dropInPath)}/*.toml`;
    const topText = ensureImport(current ?? "", pattern, version, configPath);
    const topSummary = topText === current ? [] : [`imports: + ${pattern}`];
    return {
        version,
        criPlugin,
        inheritedFrom,
        topLevel: renderResult(configPath, current, topText, topSummary),
        dropIn: renderResult(dropInPath, options.currentDropIn, dropInText, summary),
    };
}

/** An explicit `version` wins; a file with keys but none is version 1; a missing or empty file is 2. */
export function configVersion(config: TomlTable, label: string): number {
    const keys = Object.keys(config);
    if (keys.length === 0) return 2;
    const version = config.version;
    if (version === undefined) {
        // nvidia-ctk treats this as v1 and writes a drop-in nothing imports: a silent no-op (NVIDIA/nvidia-container-toolkit#1430).
        throw new GpuConfigError(
            `${label}: version`,
            "the file has settings but no `version` key, so containerd reads it as config version 1, which cannot import drop-ins",
            'add `version = 2` as the first line (containerd 1.x; rename `plugins.cri` to `plugins."io.containerd.grpc.v1.cri"` if present) or run `containerd config migrate` (2.x), then run again',
        );
    }
    if (version === 2 || version === 3 || version === 4) return version;
    if (version === 1) {
        throw new GpuConfigError(
            `${label}: version`,
            "config version 1 cannot import drop-in files",
            "migrate the file to `version = 2` (containerd 1.x) or run `containerd config migrate` (2.x), then run again",
        );
    }
    throw new GpuConfigError(
        `${label}: version`,
        `unsupported config version ${String(version)}`,
        "use version 2 (containerd 1.x), 3 (containerd 2.0–2.2) or 4 (containerd 2.3 and later)",
    );
}

/** A CRI-disabled containerd (Docker's containerd.io default) would ignore the runtime (#1430). */
function refuseDisabledCri(config: TomlTable, label: string): void {
    const disabled = Array.isArray(config.disabled_plugins) ? config.disabled_plugins : [];
    const cri = disabled.find((p) => typeof p === "string" && CRI_PLUGIN_NAMES.includes(p));
    if (cri !== undefined) {
        throw new GpuConfigError(
            `${label}: disabled_plugins`,
            `the CRI plugin "${String(cri)}" is disabled, so a runtime registered for it would never be used`,
            "for Docker hosts configure the `docker` runtime instead; for Kubernetes remove it from disabled_plugins",
        );
    }
}

/** nvidia-ctk's entry when no runtime can be copied (§3.2); containerd 2.x dropped runtime_engine and runtime_root. */
function fallbackRuntime(version: number): TomlTable {
    const entry: TomlTable = { privileged_without_host_devices: false, runtime_type: RUNC_V2 };
    if (version === 2) Object.assign(entry, { runtime_engine: "", runtime_root: "" });
    return entry;
}
