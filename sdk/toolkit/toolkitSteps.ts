import { TOOLKIT_CONFIG, ToolkitSetting } from "./toolkitConfig";
import { script, sh } from "../shell/shellScript";
import { backupPath } from "../steps/fileStep";
import { PlanStep } from "../steps/planStep";
import { validateCdiSpecOutput } from "../validate";
import { REMOVE_CREATED_DIRS, recordCreatedDirs } from "../steps/stateCleanup";

/**
 * Applies `--set` edits to the toolkit config when the file did not exist when the plan was made
 * (the toolkit package creates it during the same run): NVIDIA's own tool edits the fresh file. It
 * leaves a marker, so that a later plan of the converged host repeats this very step (same inputs,
 * nothing to run) instead of a rendered write of the same bytes.
 */
export function toolkitConfigOnHostStep(settings: ToolkitSetting[]): PlanStep {
    const args = settings.map((s) => `${s.key}=${Array.isArray(s.value) ? s.value.join(",") : String(s.value)}`).flatMap((kv) => ["--set", kv]);
    const marker = `${backupPath(TOOLKIT_CONFIG, false)}.by-nvidia-ctk`;
    return {
        name: "toolkit-config",
        description: `toolkit config: ${settings.map((s) => s.key).join(", ")} (file created by the package install)`,
        script: script(
            sh`config=${TOOLKIT_CONFIG}`,
            sh`before=$(sha256sum "$config" 2>/dev/null | cut -d ' ' -f 1 || true)`,
            sh`nvidia-ctk config --config-file "$config" --in-place ${args}`,
            sh`after=$(sha256sum "$config" | cut -d ' ' -f 1)`,
            sh`mkdir -p "$(dirname ${marker})"; : > ${marker}`,
            sh`if [ "$before" = "$after" ]; then echo unchanged; else echo "changed $config"; fi`,
        ),
        undoScript: script(sh`rm -f ${marker}`),
        changes: [TOOLKIT_CONFIG],
        root: true,
    };
}

/** Where nvidia-ctk and the `nvidia-cdi-refresh` units of toolkit >= 1.18 write the spec. */
export const DEFAULT_CDI_SPEC = "/var/run/cdi/nvidia.yaml";
const CDI_MARKER = "/var/lib/pulumi-nvidia-gpu/cdi-spec-written";

/**
 * The CDI spec for the GPUs present, and its device names. Toolkit >= 1.18 ships `nvidia-cdi-refresh`
 * units that write the default spec themselves: where they exist, the step runs the unit instead of
 * writing a second spec with the same devices (two specs naming `nvidia.com/gpu=0` make every CDI
 * runtime refuse both: "conflicting device"). Temp files are removed on every path, including the
 * early "unchanged" one, and those an earlier version of this step leaked are cleaned up.
 */
export function cdiSpecStep(requested = DEFAULT_CDI_SPEC): PlanStep {
    // Only a spec file in a CDI folder: `/etc/passwd` or `-x` never reach mktemp, mv or rm (issue 14).
    const output = validateCdiSpecOutput(requested, "output");
    return {
        name: "cdi-spec",
        description: `CDI spec ${output} for Podman, Docker CDI and CDI mode`,
        script: script(
            sh`output=${output}`,
            sh`marker=${CDI_MARKER}`,
            sh`dir=$(dirname -- "$output"); base=$(basename -- "$output")`,
            // A folder this step creates goes again on destroy (issue 22: /run/cdi was left behind).
            recordCreatedDirs(sh`"$dir"`),
            sh`mkdir -p -- "$dir"`,
            sh`find "$dir" -maxdepth 1 -name "$base.??????.yaml" -type f -delete`,
            sh`if [ "$output" = ${DEFAULT_CDI_SPEC} ] && systemctl cat nvidia-cdi-refresh.service >/dev/null 2>&1; then
    systemctl enable nvidia-cdi-refresh.path >/dev/null 2>&1 || true
    if ! out=$(systemctl restart nvidia-cdi-refresh.service 2>&1); then
        echo "error: nvidia-cdi-refresh.service failed: $out $(journalctl -u nvidia-cdi-refresh -n 5 --no-pager 2>/dev/null)" >&2; exit 7
    fi
    [ -s "$output" ] || { echo "error: nvidia-cdi-refresh.service ran but wrote no $output" >&2; exit 7; }
    rm -f "$marker"
    echo "unchanged $output (written by nvidia-cdi-refresh)"
else
    tmp=$(mktemp "$output.XXXXXX.yaml")
    if ! err=$(nvidia-ctk cdi generate --output="$tmp" 2>&1 >/dev/null); then
        rm -f "$tmp"; echo "error: nvidia-ctk cdi generate failed: $(printf '%s\\n' "$err" | tail -n 3)" >&2; exit 7
    fi
    if [ -e "$output" ] && cmp -s "$tmp" "$output"; then
        rm -f "$tmp"; echo "unchanged $output"
    else
        chmod 0644 "$tmp"; mv -f "$tmp" "$output"; echo "changed $output"
    fi
    mkdir -p "$(dirname "$marker")"; printf '%s\\n' "$output" > "$marker"
fi`,
            sh`nvidia-ctk cdi list 2>/dev/null | sed 's/^/cdi-device /'`,
        ),
        // Only a spec this step wrote is removed; one that nvidia-cdi-refresh owns stays.
        undoScript: script(
            sh`output=${output}`,
            sh`marker=${CDI_MARKER}`,
            sh`dir=$(dirname -- "$output"); base=$(basename -- "$output")`,
            sh`if [ -d "$dir" ]; then find "$dir" -maxdepth 1 -name "$base.??????.yaml" -type f -delete; fi`,
            sh`if [ -f "$marker" ] && [ "$(cat "$marker")" = "$output" ]; then rm -f -- "$output"; echo "removed $output"; fi`,
            sh`rm -f "$marker"`,
            REMOVE_CREATED_DIRS,
        ),
        changes: [output],
        root: true,
    };
}
