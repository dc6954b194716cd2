import { GpuConfigError } from "../errors";
import { MigProfile } from "../host/dataCentreFacts";
import { HostFacts } from "../host/hostFacts";
import { PREAMBLE } from "../shell/preamble";
import { script, sh } from "../shell/shellScript";
import { validate } from "../validate";
import { PlanStep } from "./planStep";

/** One entry of a MIG layout, in the style of mig-parted's `mig-configs` (`devices`, `mig-enabled`, `mig-devices`). */
export interface MigDeviceLayout {
    /** GPU indexes (`"0"`) or UUIDs (`"GPU-2d7f…"`). Omitted: every GPU no other entry names. */
    gpus?: string[];
    /** MIG mode. Default: true when `profiles` is given, else false. */
    enabled?: boolean;
    /** GPU instance profiles and how many of each, e.g. `{ "3g.71gb": 2 }`; each gets one full compute instance. */
    profiles?: Record<string, number>;
}

/** A node's MIG layout. */
export interface MigLayoutSpec {
    devices: MigDeviceLayout[];
    /** systemd units that hold the GPUs, stopped before MIG changes and started again after. Default: DCGM and its exporter. */
    stopServices?: string[];
}

export const DEFAULT_MIG_STOP_SERVICES = ["nvidia-dcgm", "dcgm", "nvidia-dcgm-exporter", "dcgm-exporter"];

/** The layout one GPU should have, resolved against the host's facts. */
export interface MigGpuTarget {
    index: number;
    uuid: string;
    name: string;
    enabled: boolean;
    /** Profiles to create, sorted by name. */
    profiles: Array<{ name: string; id: number }>;
}

/** One GPU's difference between what the host has and what the layout wants. */
export interface MigGpuChange {
    target: MigGpuTarget;
    currentMode: string;
    currentProfiles: string[];
    changed: boolean;
}

/**
 * Resolves a layout against the host: every selector names a GPU it has, every profile is one its GPU lists in
 * `nvidia-smi mig -lgip` (the error names the ones it has), and the profiles fit (per-profile counts, compute and
 * memory slices). Pure.
 */
export function resolveMigLayout(facts: HostFacts, layout: MigLayoutSpec): MigGpuTarget[] {
    const profiles = facts.dataCentre?.migProfiles ?? [];
    const named = new Map<number, number>();
    layout.devices.forEach((d, i) =>
        (d.gpus ?? []).forEach((sel, j) => {
            const gpu = facts.gpus.find((g) => String(g.index) === sel || g.uuid === sel);
            if (gpu === undefined) {
                throw new GpuConfigError(
                    `migLayout.devices[${i}].gpus[${j}]`,
                    `${JSON.stringify(sel)} is not a GPU of this host`,
                    `use an index or UUID of: ${facts.gpus.map((g) => `${g.index} (${g.uuid})`).join(", ") || "none (the host reports no GPU)"}`,
                );
            }
            if (named.has(gpu.index))
                throw new GpuConfigError(
                    `migLayout.devices[${i}].gpus[${j}]`,
                    `GPU ${gpu.index} is already laid out by devices[${named.get(gpu.index)}]`,
                    "name each GPU in one entry only",
                );
            named.set(gpu.index, i);
        }),
    );
    const fallback = layout.devices.findIndex((d) => d.gpus === undefined);
    if (layout.devices.filter((d) => d.gpus === undefined).length > 1)
        throw new GpuConfigError("migLayout.devices", "has more than one entry without gpus", "give every entry but one a gpus list");
    const targets: MigGpuTarget[] = [];
    for (const gpu of facts.gpus) {
        const i = named.get(gpu.index) ?? (fallback >= 0 ? fallback : undefined);
        if (i === undefined) continue;
        const entry = layout.devices[i];
        const field = `migLayout.devices[${i}]`;
        const wanted = Object.entries(entry.profiles ?? {});
        const enabled = entry.enabled ?? wanted.length > 0;
        if (!enabled && wanted.some(([, n]) => n > 0))
            throw new GpuConfigError(`${field}.enabled`, "is false but profiles are given", "set enabled to true, or remove profiles");
        const own = profiles.filter((p) => p.gpu === gpu.index);
        if (enabled && own.length === 0) {
            throw new GpuConfigError(
                `${field}`,
                `GPU ${gpu.index} (${gpu.name}) lists no MIG profiles (nvidia-smi mig -lgip ${gpu.migMode === undefined ? "reports no MIG support" : "was not read by the probe"})`,
                "lay out only GPUs with MIG (A100, A30, H100, H200, B200), probed as root",
            );
        }
        const chosen: Array<{ name: string; id: number }> = [];
        for (const [name, count] of wanted) {
            const profile = own.find((p) => p.name === name);
            if (profile === undefined) {
                throw new GpuConfigError(
                    `${field}.profiles`,
                    `${JSON.stringify(name)} is not a MIG profile of GPU ${gpu.index} (${gpu.name})`,
                    `use one of: ${own.map((p) => p.name).join(", ")}`,
                );
            }
            if (!Number.isInteger(count) || count < 0 || count > profile.total) {
                throw new GpuConfigError(`${field}.profiles.${name}`, `${count} is not a count GPU ${gpu.index} can hold`, `use 0 to ${profile.total}`);
            }
            for (let n = 0; n < count; n++) chosen.push({ name, id: profile.id });
        }
        checkCapacity(own, chosen, `${field}.profiles`, gpu.index);
        chosen.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        targets.push({ index: gpu.index, uuid: validate(gpu.uuid, "name", `GPU ${gpu.index} uuid`), name: gpu.name, enabled, profiles: chosen });
    }
    return targets;
}

/** Compute slices (`3g`) and memory must fit the whole GPU (its largest profile); placement is left to nvidia-smi and verified. */
function checkCapacity(own: MigProfile[], chosen: Array<{ name: string }>, field: string, index: number): void {
    const slices = (name: string) => Number(/^(\d+)g\./.exec(name)?.[1] ?? 0);
    const whole = own.reduce((a, p) => (slices(p.name) > slices(a.name) ? p : a), own[0]);
    if (whole === undefined) return;
    const compute = chosen.reduce((n, c) => n + slices(c.name), 0);
    const memory = chosen.reduce((n, c) => n + (own.find((p) => p.name === c.name)?.memoryGiB ?? 0), 0);
    if (compute > slices(whole.name) || memory > whole.memoryGiB + 0.01) {
        throw new GpuConfigError(
            field,
            `${chosen.map((c) => c.name).join(" + ")} needs ${compute} compute slices and ${memory.toFixed(2)} GiB; GPU ${index} has ${slices(whole.name)} and ${whole.memoryGiB.toFixed(2)} GiB (${whole.name})`,
            "use fewer or smaller profiles",
        );
    }
}

/** The difference between the host's MIG state and the layout, per GPU. Pure. */
export function diffMigLayout(facts: HostFacts, targets: MigGpuTarget[]): MigGpuChange[] {
    const dc = facts.dataCentre;
    return targets.map((target) => {
        const currentMode =
            dc?.gpus.find((g) => g.index === target.index)?.migCurrent ?? facts.gpus.find((g) => g.index === target.index)?.migMode ?? "unknown";
        const currentProfiles = (dc?.migGpuInstances ?? [])
            .filter((i) => i.gpu === target.index)
            .map((i) => i.profile)
            .sort();
        const wantMode = target.enabled ? "Enabled" : "Disabled";
        const changed = currentMode !== wantMode || currentProfiles.join(",") !== target.profiles.map((p) => p.name).join(",");
        return { target, currentMode, currentProfiles, changed };
    });
}

/** Preview lines: `GPU 0 (NVIDIA H200, GPU-2d7f…): MIG Disabled → Enabled; instances none → 3g.71gb ×2`. */
export function migLayoutPreview(changes: MigGpuChange[]): string[] {
    const counts = (names: string[]) => {
        if (names.length === 0) return "none";
        const m = new Map<string, number>();
        for (const n of names) m.set(n, (m.get(n) ?? 0) + 1);
        return [...m].map(([n, c]) => (c > 1 ? `${n} ×${c}` : n)).join(", ");
    };
    return changes.map(({ target, currentMode, currentProfiles, changed }) => {
        const head = `GPU ${target.index} (${target.name}, ${target.uuid})`;
        const wantMode = target.enabled ? "Enabled" : "Disabled";
        if (!changed) return `${head}: unchanged (MIG ${wantMode}, instances ${counts(currentProfiles)})`;
        const mode = currentMode === wantMode ? `MIG ${wantMode}` : `MIG ${currentMode} → ${wantMode}`;
        return `${head}: ${mode}; instances ${counts(currentProfiles)} → ${counts(target.profiles.map((p) => p.name))}`;
    });
}

/**
 * The MIG step: stop the GPU workloads (listed units; a GPU still running processes stops the step), set MIG mode
 * (with a GPU reset where the mode stays pending), destroy and create the instances, regenerate the CDI specs that
 * exist (nvidia-cdi-refresh does not: NVIDIA/nvidia-container-toolkit#1828), verify, start the units again.
 * The script holds only the wanted layout, so its text is the same on every run; it prints `unchanged` when the
 * host already has it. The layout is lost on reboot (only the mode persists: NVIDIA/k8s-device-plugin#225).
 */
export function migLayoutPlan(facts: HostFacts, layout: MigLayoutSpec): { steps: PlanStep[]; preview: string[] } {
    const targets = resolveMigLayout(facts, layout);
    const services = (layout.stopServices ?? DEFAULT_MIG_STOP_SERVICES).map((s, i) => validate(s, "name", `migLayout.stopServices[${i}]`));
    const table = targets
        .map(
            (t) =>
                `${t.index} ${t.uuid} ${t.enabled ? "Enabled" : "Disabled"} ${t.profiles.map((p) => p.id).join(",") || "-"} ${t.profiles.map((p) => p.name).join(",") || "-"}`,
        )
        .join("\n");
    const step: PlanStep = {
        name: "mig-layout",
        description: `MIG layout: ${targets.map((t) => `GPU ${t.index} ${t.enabled ? t.profiles.map((p) => p.name).join("+") || "MIG enabled, no instances" : "MIG disabled"}`).join("; ")}`,
        script: script(
            PREAMBLE,
            sh`layout=${table}
services=${services.join(" ")}
mode_of() { nvidia-smi -i "$1" --query-gpu=mig.mode.current --format=csv,noheader; }
pending_of() { nvidia-smi -i "$1" --query-gpu=mig.mode.pending --format=csv,noheader; }
profiles_of() { nvidia-smi mig -i "$1" -lgi 2>/dev/null | awk '$1 == "|" && $3 == "MIG" { print $4 }' | sort | paste -s -d, -; }
state_of() {
    m=$(mode_of "$1")
    if [ "$m" = Enabled ]; then p=$(profiles_of "$1"); else p=""; fi
    echo "$m \${p:--}"
}
todo=""
while read -r idx uuid mode ids names; do
    got=$(nvidia-smi -i "$idx" --query-gpu=uuid --format=csv,noheader)
    [ "$got" = "$uuid" ] || { log "error: GPU $idx is $got, not $uuid: the GPUs changed since the plan; plan again"; exit 50; }
    [ "$(state_of "$idx")" = "$mode $names" ] || todo="$todo $idx"
done <<EOF
$layout
EOF
if [ -z "$todo" ]; then echo "unchanged: MIG layout in place"; exit 0; fi
stopped=""
restart_stopped() { for s in $stopped; do systemctl start "$s" || log "warning: could not start $s again"; done; }
trap restart_stopped EXIT
for s in $services; do
    if systemctl is-active --quiet "$s" 2>/dev/null; then systemctl stop "$s"; stopped="$stopped $s"; fi
done
for idx in $todo; do
    apps=$(nvidia-smi -i "$idx" --query-compute-apps=pid,process_name --format=csv,noheader) || { log "error: could not list GPU $idx's processes"; exit 51; }
    [ -z "$apps" ] || { log "error: GPU $idx still runs $(printf '%s' "$apps" | tr '\\n' ';'); stop these workloads (or drain the node) and run again"; exit 51; }
done
while read -r idx uuid mode ids names; do
    case " $todo " in *" $idx "*) ;; *) continue ;; esac
    if [ "$(mode_of "$idx")" = Enabled ]; then
        nvidia-smi mig -i "$idx" -dci >/dev/null 2>&1 || true
        nvidia-smi mig -i "$idx" -dgi >/dev/null 2>&1 || true
    fi
    if [ "$(mode_of "$idx")" != "$mode" ]; then
        if [ "$mode" = Enabled ]; then nvidia-smi -i "$idx" -mig 1 >/dev/null; else nvidia-smi -i "$idx" -mig 0 >/dev/null; fi
        if [ "$(mode_of "$idx")" != "$(pending_of "$idx")" ]; then
            nvidia-smi -i "$idx" -r >/dev/null 2>&1 || { echo "reboot-required: GPU $idx's MIG mode is pending $(pending_of "$idx"); reboot, then run again to create the instances"; exit 0; }
        fi
    fi
    if [ "$ids" != - ]; then nvidia-smi mig -i "$idx" -cgi "$ids" -C >/dev/null; fi
done <<EOF
$layout
EOF
for spec in /etc/cdi/nvidia.yaml /var/run/cdi/nvidia.yaml; do
    [ -e "$spec" ] || continue
    if command -v nvidia-ctk >/dev/null 2>&1; then
        tmp=$(mktemp "$spec.XXXXXX")
        if nvidia-ctk cdi generate --output="$tmp" >/dev/null 2>&1; then chmod 0644 "$tmp"; mv -f "$tmp" "$spec"; echo "regenerated $spec"; else rm -f "$tmp"; log "error: nvidia-ctk cdi generate failed for $spec"; exit 52; fi
    fi
done
while read -r idx uuid mode ids names; do
    now=$(state_of "$idx")
    [ "$now" = "$mode $names" ] || { log "error: GPU $idx has MIG $now after the change, not $mode $names"; exit 53; }
done <<EOF
$layout
EOF
echo "changed: MIG layout applied to GPU$todo"`,
        ),
        changes: targets.map((t) => `MIG GPU ${t.index}: ${t.enabled ? `enabled, ${t.profiles.map((p) => p.name).join(", ") || "no instances"}` : "disabled"}`),
        root: true,
    };
    return { steps: [step], preview: migLayoutPreview(diffMigLayout(facts, targets)) };
}
