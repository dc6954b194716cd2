import { HostSnapshot } from "../host/snapshot";
import { sh } from "../shell/shellScript";
import { fileStep } from "../steps/fileStep";
import { checksumGuard, writeGeneration } from "../steps/guardedFileStep";
import { PlanStep } from "../steps/planStep";
import { renderResult } from "../steps/renderResult";
import { removesCreatedDir } from "../steps/stateCleanup";
import { DEFAULT_CDI_SPEC } from "../toolkit/toolkitSteps";

/** The systemd drop-in that orders podman-restart.service after the CDI spec at boot. */
export const PODMAN_BOOT_DROP_IN = "/etc/systemd/system/podman-restart.service.d/50-nvidia-cdi.conf";

/**
 * podman-restart.service starts the restart-policy=always containers when the host boots; their GPUs are CDI devices,
 * which podman resolves from the CDI spec at every start. The spec lives in /var/run/cdi, which is empty at boot until
 * nvidia-cdi-refresh.service writes it again, and nothing orders the two (toolkit 1.20's unit is WantedBy
 * multi-user.target with no Before=). Seen on the fleet's Podman nodes: after a reboot the spec was missing and the
 * container stayed down. The drop-in pulls the refresh in, orders podman-restart after it, and writes the spec itself
 * where the refresh did not (a toolkit without the unit, or a refresh that found no driver yet); a failure there
 * stops nothing (`-`).
 */
export function podmanBootOrderText(spec = DEFAULT_CDI_SPEC): string {
    return [
        "# Written by pulumi-nvidia-gpu (GpuNode, runtime podman): GPU containers that podman-restart.service starts at",
        "# boot are CDI devices, resolved from the CDI spec, which /var/run loses at every boot.",
        "[Unit]",
        "Wants=nvidia-cdi-refresh.service",
        "After=nvidia-cdi-refresh.service",
        "",
        "[Service]",
        `ExecStartPre=-/bin/sh -c '[ -s ${spec} ] || exec /usr/bin/nvidia-ctk cdi generate --output=${spec}'`,
        "",
    ].join("\n");
}

/** The drop-in's step: written only when it differs, guarded like every file this library writes; destroy removes it. */
export function podmanBootOrderStep(snapshot: HostSnapshot): PlanStep {
    const result = renderResult(PODMAN_BOOT_DROP_IN, snapshot.files[PODMAN_BOOT_DROP_IN], podmanBootOrderText(), [
        "podman-restart.service: after nvidia-cdi-refresh.service, and the CDI spec written before it starts containers",
    ]);
    // systemd reads the drop-in at boot, where it matters, whether or not this reload works; a failed reload must not
    // fail the step after the write, or its retry finds the file as rendered and never reloads either.
    const reload = sh`systemctl daemon-reload || echo "warning: systemctl daemon-reload failed; systemd reads the drop-in at the next boot" >&2`;
    const step = fileStep("podman-boot-order", "podman-restart.service starts GPU containers only once the CDI spec is there", result, {
        guard: checksumGuard(result, snapshot),
        generation: writeGeneration(result, snapshot),
        afterWrite: reload,
        afterUndo: sh`systemctl daemon-reload || true`,
    });
    return removesCreatedDir(step, PODMAN_BOOT_DROP_IN.replace(/\/[^/]*$/, ""));
}
