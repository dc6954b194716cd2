import { GpuConfigError } from "../errors";
import { MigProfile } from "../host/dataCentreFacts";
import { HostFacts } from "../host/hostFacts";
import { PREAMBLE } from "../shell/preamble";
import { ShellFragment, script, sh } from "../shell/shellScript";
import { validate } from "../validate";
import { PlanStep } from "../steps/planStep";

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

/** Whether an entry turns MIG on: as `enabled` says, else when it names any profile. */
export function migEntryEnabled(entry: MigDeviceLayout): boolean {
    return entry.enabled ?? Object.keys(entry.profiles ?? {}).length > 0;
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
        const enabled = migEntryEnabled(entry);
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

/** Where the mig-layout step records each GPU's layout before its first change, for the undo to restore. */
export const MIG_RECORD_DIR = "/var/lib/pulumi-nvidia-gpu/mig-before";

/**
 * Shell functions of the MIG step and its undo. A layout table has one line per GPU: `index uuid mode ids names`
 * (ids and names comma-separated, sorted by name, `-` for none).
 */
function migFunctions(services: string[]): ShellFragment {
    return sh`services=${services.join(" ")}
record=${MIG_RECORD_DIR}
mode_of() { nvidia-smi -i "$1" --query-gpu=mig.mode.current --format=csv,noheader; }
pending_of() { nvidia-smi -i "$1" --query-gpu=mig.mode.pending --format=csv,noheader; }
uuid_of() { nvidia-smi -i "$1" --query-gpu=uuid --format=csv,noheader; }
instances_of() { nvidia-smi mig -i "$1" -lgi 2>/dev/null | awk '$1 == "|" && $3 == "MIG" { print $4, $5 }' | sort; }
profiles_of() { instances_of "$1" | cut -d ' ' -f 1 | paste -s -d, -; }
state_of() {
    m=$(mode_of "$1")
    if [ "$m" = Enabled ]; then p=$(profiles_of "$1"); else p=""; fi
    echo "$m \${p:--}"
}
# entry_of INDEX: the GPU's layout now, as a table line.
entry_of() {
    m=$(mode_of "$1"); ids=-; names=-
    if [ "$m" = Enabled ]; then
        list=$(instances_of "$1")
        if [ -n "$list" ]; then
            names=$(printf '%s\\n' "$list" | cut -d ' ' -f 1 | paste -s -d, -)
            ids=$(printf '%s\\n' "$list" | cut -d ' ' -f 2 | paste -s -d, -)
        fi
    fi
    echo "$1 $(uuid_of "$1") $m $ids $names"
}
# plan_todo TABLE: the GPUs whose layout differs, in $todo; refuses GPUs that changed since the plan.
plan_todo() {
    todo=""
    while read -r idx uuid mode ids names; do
        got=$(uuid_of "$idx")
        [ "$got" = "$uuid" ] || { log "error: GPU $idx is $got, not $uuid: the GPUs changed since the plan; plan again"; exit 50; }
        [ "$(state_of "$idx")" = "$mode $names" ] || todo="$todo $idx"
    done <<EOF
$1
EOF
}
stopped=""
stopped_containers=""
restart_stopped() {
    for c in $stopped_containers; do
        if docker start "$c" >/dev/null; then echo "started GPU container $c again"; else log "warning: could not start container $c again"; fi
    done
    for s in $stopped; do systemctl start "$s" || log "warning: could not start $s again"; done
}
# gpu_containers: running containers of the system Docker daemon that use GPUs (the nvidia runtime, --gpus, CDI or /dev/nvidia* devices).
gpu_containers() {
    command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || return 0
    for id in $(docker ps -q); do
        case "$(docker inspect -f '{{.HostConfig.Runtime}} {{json .HostConfig.DeviceRequests}} {{json .HostConfig.Devices}}' "$id" 2>/dev/null)" in
            *nvidia*|*'"gpu"'*) docker inspect -f '{{.Name}}' "$id" | sed 's|^/||' ;;
        esac
    done
}
# stop_gpu_workloads: the listed units and the GPU containers stop (started again on exit); a GPU still in use stops the step.
stop_gpu_workloads() {
    trap restart_stopped EXIT
    for s in $services; do
        if systemctl is-active --quiet "$s" 2>/dev/null; then systemctl stop "$s"; stopped="$stopped $s"; echo "stopped $s"; fi
    done
    for c in $(gpu_containers); do
        docker stop -t 30 "$c" >/dev/null
        stopped_containers="$stopped_containers $c"
        echo "stopped GPU container $c"
    done
    for idx in $todo; do
        apps=$(nvidia-smi -i "$idx" --query-compute-apps=pid,process_name --format=csv,noheader) || { log "error: could not list GPU $idx's processes"; exit 51; }
        [ -z "$apps" ] || { log "error: GPU $idx still runs $(printf '%s' "$apps" | tr '\\n' ';'); stop these workloads (or drain the node) and run again"; exit 51; }
    done
}
# apply_todo TABLE: destroys the instances of the GPUs in $todo, sets their MIG mode, creates the table's instances.
apply_todo() {
    while read -r idx uuid mode ids names; do
        case " $todo " in *" $idx "*) ;; *) continue ;; esac
        if [ "$(mode_of "$idx")" = Enabled ]; then
            nvidia-smi mig -i "$idx" -dci >/dev/null 2>&1 || true
            nvidia-smi mig -i "$idx" -dgi >/dev/null 2>&1 || true
        fi
        if [ "$(mode_of "$idx")" != "$mode" ]; then
            if [ "$mode" = Enabled ]; then nvidia-smi -i "$idx" -mig 1 >/dev/null; else nvidia-smi -i "$idx" -mig 0 >/dev/null; fi
            if [ "$(mode_of "$idx")" != "$(pending_of "$idx")" ]; then
                nvidia-smi -i "$idx" -r >/dev/null 2>&1 || { echo "reboot-required: GPU $idx's MIG mode is pending $(pending_of "$idx"); reboot, then run again to create the instances"; exit "$reboot_exit"; }
            fi
        fi
        if [ "$ids" != - ]; then nvidia-smi mig -i "$idx" -cgi "$ids" -C >/dev/null; fi
    done <<EOF
$1
EOF
}
# regenerate_cdi: the CDI specs that exist, written again for the new MIG devices (nvidia-cdi-refresh does not).
regenerate_cdi() {
    for spec in /etc/cdi/nvidia.yaml /var/run/cdi/nvidia.yaml; do
        [ -e "$spec" ] || continue
        if command -v nvidia-ctk >/dev/null 2>&1; then
            tmp=$(mktemp "$spec.XXXXXX")
            if nvidia-ctk cdi generate --output="$tmp" >/dev/null 2>&1; then chmod 0644 "$tmp"; mv -f "$tmp" "$spec"; echo "regenerated $spec"; else rm -f "$tmp"; log "error: nvidia-ctk cdi generate failed for $spec"; exit 52; fi
        fi
    done
}
verify_layout() {
    while read -r idx uuid mode ids names; do
        now=$(state_of "$idx")
        [ "$now" = "$mode $names" ] || { log "error: GPU $idx has MIG $now after the change, not $mode $names"; exit 53; }
    done <<EOF
$1
EOF
}`;
}

/**
 * The MIG step: stop the GPU workloads (the listed units and the system Docker daemon's containers using GPUs,
 * started again after; a GPU still running processes, a rootless daemon's or a Kubernetes pod's, stops the step),
 * record each GPU's layout before its first change, set MIG mode (with a GPU reset where the mode stays pending),
 * destroy and create the instances, regenerate the CDI specs that
 * exist (nvidia-cdi-refresh does not: NVIDIA/nvidia-container-toolkit#1828), verify. Its undo (layout removed, or
 * destroy) puts the recorded layout back the same way, and fails (keeping the record) where a GPU needs a reboot first.
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
            migFunctions(services),
            sh`layout=${table}
reboot_exit=0
plan_todo "$layout"
if [ -z "$todo" ]; then echo "unchanged: MIG layout in place"; exit 0; fi
stop_gpu_workloads
mkdir -p "$record"
for idx in $todo; do
    [ -e "$record/$idx" ] || { entry_of "$idx" > "$record/$idx.tmp"; mv -f "$record/$idx.tmp" "$record/$idx"; echo "recorded GPU $idx's layout before the change: $(cat "$record/$idx")"; }
done
apply_todo "$layout"
regenerate_cdi
verify_layout "$layout"
echo "changed: MIG layout applied to GPU$todo"`,
        ),
        undoScript: script(
            PREAMBLE,
            migFunctions(services),
            sh`layout=$(for f in "$record"/*; do case "$f" in *.tmp) ;; *) if [ -f "$f" ]; then cat "$f"; fi ;; esac; done)
if [ -z "$layout" ]; then rm -rf "$record"; echo "unchanged: no MIG layout was recorded before a change"; exit 0; fi
# A restore cut short by a pending mode fails, keeping the record, so destroy can run again after the reboot.
reboot_exit=54
plan_todo "$layout"
if [ -n "$todo" ]; then
    stop_gpu_workloads
    apply_todo "$layout"
    regenerate_cdi
    verify_layout "$layout"
fi
rm -rf "$record"
echo "restored: MIG layout from before the plan on GPU \${todo:- (already in place)}"`,
        ),
        changes: targets.map((t) => `MIG GPU ${t.index}: ${t.enabled ? `enabled, ${t.profiles.map((p) => p.name).join(", ") || "no instances"}` : "disabled"}`),
        root: true,
    };
    return { steps: [step], preview: migLayoutPreview(diffMigLayout(facts, targets)) };
}
