import { GpuConfigError } from "../errors";
import { MigDeviceLayout, MigLayoutSpec, migEntryEnabled } from "../datacentre/migLayout";

export { MigStrategy } from "../spec/choices";
import { MIG_STRATEGIES, MigStrategy } from "../spec/choices";

const STRATEGIES: readonly string[] = MIG_STRATEGIES;

/** One layout entry as the strategy sees it: MIG on or off, and its instances by profile (counts above 0). */
interface EntryView {
    field: string;
    gpus: string;
    enabled: boolean;
    profiles: string[];
}

/**
 * Checks a MIG strategy against the MIG layouts of the cluster's nodes (one `MigLayoutSpec` per node, as
 * GpuNode's `migLayout` takes it), the way the device plugin and GFD judge a node at run time
 * (`internal/lm/mig-strategy.go`): `none` exposes no MIG device, so no layout may enable MIG; `single` needs,
 * on each node, MIG on every GPU the layout names or on none, and instances of one profile only (a node with
 * two profiles, or a MIG-enabled GPU without instances, is labelled `<product>-MIG-INVALID` with `nvidia.com/gpu.count=0`);
 * `mixed` accepts any layout. GPUs a layout does not name keep the mode they have, which this pure check
 * cannot see. Returns the first conflict as a GpuConfigError naming the field and the fix, or undefined. Pure.
 */
export function migStrategyConflict(
    strategy: string,
    layouts: MigLayoutSpec[],
    field = "migStrategy",
    layoutsField = "migLayouts",
): GpuConfigError | undefined {
    if (!STRATEGIES.includes(strategy))
        return new GpuConfigError(field, `${JSON.stringify(strategy)} is not supported`, `use one of: ${STRATEGIES.join(", ")}`);
    if (!Array.isArray(layouts)) return new GpuConfigError(layoutsField, "is not a list", "give one MIG layout per node, as GpuNode's migLayout takes it");
    for (const [i, layout] of layouts.entries()) {
        const layoutField = `${layoutsField}[${i}]`;
        if (!Array.isArray(layout?.devices))
            return new GpuConfigError(`${layoutField}.devices`, "is not a list", "give the node's MIG layout entries, as GpuNode's migLayout.devices");
        const entries = layout.devices.map((d, j) => view(d, `${layoutField}.devices[${j}]`));
        const conflict =
            strategy === MigStrategy.None ? noneConflict(entries, field) : strategy === MigStrategy.Single ? singleConflict(entries, field) : undefined;
        if (conflict) return conflict;
    }
    return undefined;
}

function view(entry: MigDeviceLayout, field: string): EntryView {
    const profiles = entry?.profiles ?? {};
    const enabled = entry === undefined ? false : migEntryEnabled(entry);
    const gpus = entry?.gpus === undefined ? "every GPU no other entry names" : `GPU${entry.gpus.length === 1 ? "" : "s"} ${entry.gpus.join(", ")}`;
    return { field, gpus, enabled, profiles: Object.keys(profiles).filter((name) => Number(profiles[name]) > 0) };
}

function describe(e: EntryView): string {
    return e.profiles.length === 0 ? "no instances" : e.profiles.join(" + ");
}

function noneConflict(entries: EntryView[], field: string): GpuConfigError | undefined {
    const on = entries.find((e) => e.enabled);
    if (on === undefined) return undefined;
    return new GpuConfigError(
        field,
        `is "none", which exposes no MIG device, but ${on.field} enables MIG on ${on.gpus} (${describe(on)}), so those GPUs would offer nothing to pods`,
        `set ${field} to "single" (one profile on every GPU of a node) or "mixed" (any layout), or set ${on.field}.enabled to false`,
    );
}

function singleConflict(entries: EntryView[], field: string): GpuConfigError | undefined {
    const on = entries.filter((e) => e.enabled);
    if (on.length === 0) return undefined;
    const useMixed = `or set ${field} to "mixed"`;
    const empty = on.find((e) => e.profiles.length === 0);
    if (empty) {
        return new GpuConfigError(
            `${empty.field}.profiles`,
            `enables MIG on ${empty.gpus} with no instances; ${field} "single" needs instances of one profile on every MIG-enabled GPU (GFD would label the node MIG-INVALID with nvidia.com/gpu.count=0)`,
            `give it one profile, e.g. { "${on.find((e) => e.profiles.length > 0)?.profiles[0] ?? "1g.18gb"}": 7 }, ${useMixed}`,
        );
    }
    const several = on.find((e) => e.profiles.length > 1);
    if (several) {
        return new GpuConfigError(
            `${several.field}.profiles`,
            `has ${several.profiles.join(" + ")} on ${several.gpus}, but ${field} "single" needs every MIG instance of a node to use one profile`,
            `keep one profile (e.g. only ${several.profiles[0]}), ${useMixed}`,
        );
    }
    const first = on[0];
    const other = on.find((e) => e.profiles[0] !== first.profiles[0]);
    if (other) {
        return new GpuConfigError(
            `${other.field}.profiles`,
            `is ${other.profiles[0]} on ${other.gpus}, but ${first.field} is ${first.profiles[0]}; ${field} "single" needs every MIG instance of a node to use one profile`,
            `use ${first.profiles[0]} on every GPU of the node, ${useMixed}`,
        );
    }
    const off = entries.find((e) => !e.enabled);
    if (off) {
        return new GpuConfigError(
            `${off.field}.enabled`,
            `leaves MIG off on ${off.gpus} while ${first.field} enables it; ${field} "single" needs MIG on every GPU of a node or on none (GFD would label the node MIG-INVALID)`,
            `enable MIG with ${first.profiles[0]} there too, ${useMixed}`,
        );
    }
    return undefined;
}
