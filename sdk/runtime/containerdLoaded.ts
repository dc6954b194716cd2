import { Finding, finding } from "../host/preflight";
import { parseToml } from "../toml/parseToml";
import { TomlTable, isTable } from "../toml/goTomlEmitter";
import { tableAt } from "../toml/tables";

/** What containerd really loaded, against the drop-in on the host: what `containerd config dump` shows is what it runs. */
export interface ContainerdLoadedInput {
    /** `containerd config dump` on the host (undefined: containerd absent, nothing to compare). */
    dump: string | undefined;
    /** The drop-in on the host now (undefined: not written yet, the plan writes it). */
    dropIn: string | undefined;
    /** config.toml on the host imports the drop-in's folder: without it the plan's own write repairs what is missing. */
    rootImportsDropIn: boolean;
    dropInPath: string;
    configPath: string;
    runtimeName: string;
    setAsDefault: boolean;
}

const CRI_PLUGINS = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"];

/**
 * A drop-in that registers the runtime while containerd's loaded config lacks it: a file containerd reads after it
 * (a later drop-in, or a later import) sets the same CRI plugin section, and containerd before 2.1 replaces whole
 * plugin sections on import (containerd/containerd#5837). Rewriting the drop-in cannot repair that, so the plan would
 * show the same change on every preview and pods would start without the runtime. Seen on a GPU machine: a drop-in
 * `99-zz-….toml` with only `restrict_oom_score_adj = true` made every CRI pod run on plain runc (containerd 1.7.24).
 */
export function containerdLoadedFindings(input: ContainerdLoadedInput): Finding[] {
    if (input.dump === undefined || input.dropIn === undefined || !input.rootImportsDropIn) return [];
    const written = criContainerd(parseToml(input.dropIn, input.dropInPath));
    const loaded = criContainerd(parseToml(input.dump, "containerd config dump"));
    const name = input.runtimeName;
    const cause =
        `a file containerd reads after ${input.dropInPath} (a drop-in whose name sorts after it, or a later import) sets the same CRI plugin section, ` +
        "and containerd before 2.1 replaces a whole plugin section on import (containerd/containerd#5837)";
    const fix =
        `move that file's CRI settings into ${input.configPath} (the plan copies the CRI section from there into its drop-in) and delete the file, then run again; ` +
        "`containerd config dump` must then list the runtime";
    if (isTable(tableAt(written, ["runtimes"])[name]) && !isTable(tableAt(loaded, ["runtimes"])[name])) {
        return [
            finding(
                "containerd-drop-in-overridden",
                "error",
                `containerd's loaded config (containerd config dump) has no ${name} runtime, though ${input.dropInPath} registers it: ${cause}`,
                fix,
            ),
        ];
    }
    if (input.setAsDefault && written.default_runtime_name === name && loaded.default_runtime_name !== name) {
        return [
            finding(
                "containerd-default-overridden",
                "warning",
                `containerd's loaded config makes ${String(loaded.default_runtime_name ?? "runc")} the default runtime, though ${input.dropInPath} sets ${name}: ${cause}; pods without runtimeClassName get no GPU`,
                fix,
            ),
        ];
    }
    return [];
}

/**
 * The CRI plugin's `containerd` table (runtimes, default): under `io.containerd.grpc.v1.cri` in config version 2, under
 * `io.containerd.cri.v1.runtime` in 3 and later, where the first still exists for the CRI server's own settings.
 */
function criContainerd(config: TomlTable): TomlTable {
    const plugin = CRI_PLUGINS.find((p) => isTable(tableAt(config, ["plugins", p])["containerd"]));
    return plugin === undefined ? {} : tableAt(config, ["plugins", plugin, "containerd"]);
}
