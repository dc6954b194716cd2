import { Finding } from "../host/preflight";

/** Where `systemctl enable podman-restart.service` links the unit (its [Install] WantedBy=default.target). */
export const PODMAN_RESTART_LINK = "/etc/systemd/system/default.target.wants/podman-restart.service";
/** Where `systemctl mask` puts its /dev/null link: masked, the unit never starts, enabled or not. */
export const PODMAN_RESTART_MASK = "/etc/systemd/system/podman-restart.service";

/**
 * Whether a Podman container with a restart policy comes back when the host boots. Podman has no daemon that restarts
 * containers at boot: podman-restart.service does, and it starts only restart-policy=always containers (`podman start
 * --all --filter restart-policy=always`, Debian 12's 4.3.1 and 13's 5.4.2 alike). Debian 12 enables the unit, Debian 13
 * does not, so a container with unless-stopped (the default) stays down after a reboot on both, and one with always on 13.
 * The unit a rootless user needs is their own (systemctl --user), which this reads nothing of.
 */
export function podmanRestartFindings(
    container: string,
    restart: string,
    rootlessUser: string | undefined,
    files: Record<string, string | undefined>,
): Finding[] {
    const enable =
        rootlessUser === undefined
            ? "systemctl enable podman-restart.service"
            : `as ${rootlessUser}: systemctl --user enable podman-restart.service, and loginctl enable-linger ${rootlessUser}`;
    if (restart === "unless-stopped")
        return [
            {
                id: "podman-restart-policy",
                severity: "warning",
                message: `container ${container}: restart unless-stopped does not bring it back when the host boots: Podman has no daemon, and podman-restart.service starts only restart-policy=always containers`,
                fix: `set restart: always, and enable the unit (${enable})`,
            },
        ];
    const masked = files[PODMAN_RESTART_MASK] !== undefined && files[PODMAN_RESTART_MASK].trim() === "";
    if (restart === "always" && rootlessUser === undefined && (files[PODMAN_RESTART_LINK] === undefined || masked))
        return [
            {
                id: "podman-restart-disabled",
                severity: "warning",
                message: `container ${container}: podman-restart.service is ${masked ? "masked" : "not enabled"} on the host (Debian 13 ships it disabled), so restart always does not bring the container back when the host boots`,
                fix: masked ? "systemctl unmask podman-restart.service && systemctl enable podman-restart.service" : enable,
            },
        ];
    return [];
}
