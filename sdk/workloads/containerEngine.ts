import { GpuConfigError } from "../errors";
import { ShellFragment, sh } from "../shell/shellScript";
import { validateChoice } from "../validate";

/** The container CLIs a workload runs through: Docker's daemon, or Podman (daemonless, CDI only). */
export const CONTAINER_ENGINES = ["docker", "podman"] as const;
export type ContainerEngineName = (typeof CONTAINER_ENGINES)[number];

/** The GPU modes each engine serves: Podman has no nvidia runtime and (before 5.0) no --gpus; NVIDIA's route for it is CDI. */
const ENGINE_GPU_MODES: Record<ContainerEngineName, readonly string[]> = { docker: ["gpus", "runtime", "cdi", "none"], podman: ["cdi", "none"] };

/** The engine asked for, and its GPU mode (Podman's default is `cdi`), refused naming the caller's fields. */
export function engineAndMode(
    engine: string | undefined,
    mode: string | undefined,
    fields: { engine: string; mode: string },
): { engine: ContainerEngineName; mode: string | undefined } {
    const e = validateChoice(engine ?? "docker", CONTAINER_ENGINES, fields.engine);
    if (e === "podman" && mode !== undefined && !ENGINE_GPU_MODES.podman.includes(mode) && ENGINE_GPU_MODES.docker.includes(mode))
        throw new GpuConfigError(
            fields.mode,
            `${JSON.stringify(mode)} is Docker's: Podman takes NVIDIA GPUs as CDI devices`,
            "use cdi (the node writes the CDI spec) or none",
        );
    return { engine: e, mode: mode ?? (e === "podman" ? "cdi" : undefined) };
}

/**
 * Shell lines that point `docker` at a rootless user's own daemon. Podman needs none: run as the user, it is that
 * user's (its storage and runtime dir come from the user's uid).
 */
export function rootlessSession(engine: ContainerEngineName, rootlessUser: string | undefined): ShellFragment[] {
    if (rootlessUser === undefined) return [];
    // Rootless Docker is the user's own daemon: its socket, not the rootful one at /var/run/docker.sock.
    if (engine === "docker") return [sh`DOCKER_HOST="unix:///run/user/$(id -u)/docker.sock"; export DOCKER_HOST`];
    // runuser gives no login session: rootless Podman looks for its runtime dir here (systemd-logind makes it for a lingering user).
    return [sh`[ -n "\${XDG_RUNTIME_DIR:-}" ] || [ ! -d "/run/user/$(id -u)" ] || { XDG_RUNTIME_DIR="/run/user/$(id -u)"; export XDG_RUNTIME_DIR; }`];
}
