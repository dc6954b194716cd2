import { HostFacts } from "../host/hostFacts";
import { Finding } from "../host/preflight";

/** The rootless user's Docker CLI config, whose `currentContext` decides which daemon `ssh://user@host` reaches. */
export function rootlessCliConfigPath(daemonJsonPath: string): string {
    return daemonJsonPath.replace(/\/\.config\/docker\/daemon\.json$/, "/.docker/config.json");
}

/**
 * Whether `dockerHost` (`ssh://user@host`) reaches rootful Docker's daemon: the remote end runs `docker system
 * dial-stdio` as that user, and a sudo user outside the `docker` group gets "permission denied" on /var/run/docker.sock.
 */
export function dockerGroupFindings(facts: HostFacts): Finding[] {
    if (facts.user.uid === 0 || facts.user.groups === undefined || facts.user.groups.includes("docker")) return [];
    return [
        {
            id: "docker-host-group",
            severity: "warning",
            message: `dockerHost ssh://${facts.user.name}@…: ${facts.user.name} is not in the docker group, so a remote docker CLI gets "permission denied" on /var/run/docker.sock (the plan itself runs docker through sudo)`,
            fix: `sudo usermod -aG docker ${facts.user.name} (root-equivalent; a new SSH login picks it up), or use root for dockerHost`,
        },
    ];
}

/**
 * Whether `dockerHost` (`ssh://rootlessUser@host`) reaches the user's rootless daemon: without a Docker context of
 * their own, `docker system dial-stdio` reaches the rootful socket instead of theirs.
 */
export function rootlessContextFindings(rootlessUser: string, rootlessCliConfig: string | undefined): Finding[] {
    let context: string | undefined;
    try {
        context = (JSON.parse(rootlessCliConfig ?? "{}") as { currentContext?: string }).currentContext;
    } catch {
        context = undefined;
    }
    if (context !== undefined && context !== "default") return [];
    return [
        {
            id: "docker-host-context",
            severity: "warning",
            message: `dockerHost ssh://${rootlessUser}@…: ${rootlessUser} has no Docker context of their own (${rootlessCliConfig === undefined ? "no ~/.docker/config.json" : "currentContext is default"}), so a remote docker CLI reaches /var/run/docker.sock, not their rootless daemon`,
            fix: `as ${rootlessUser} on the host: docker context use rootless (dockerd-rootless-setuptool.sh creates it), or set DOCKER_HOST=unix:///run/user/<uid>/docker.sock in their SSH environment`,
        },
    ];
}
