import { HostFacts } from "../host/hostFacts";
import { Finding } from "../host/preflight";

/** The rootless user's Docker CLI config, whose `currentContext` decides which daemon `ssh://user@host` reaches. */
export function rootlessCliConfigPath(daemonJsonPath: string): string {
    return daemonJsonPath.replace(/\/\.config\/docker\/daemon\.json$/, "/.docker/config.json");
}

/**
 * Whether `dockerHost` (`ssh://user@host`) reaches the daemon the node configures. The remote end runs `docker system
 * dial-stdio` as that user: a sudo user outside the `docker` group gets "permission denied" on /var/run/docker.sock,
 * and a rootless user without a context of their own reaches the rootful socket instead of theirs.
 */
export function dockerHostFindings(facts: HostFacts, runtime: string, rootlessUser: string | undefined, rootlessCliConfig: string | undefined): Finding[] {
    if (runtime === "docker-rootless" && rootlessUser !== undefined) {
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
    if (runtime !== "docker" || facts.user.uid === 0 || facts.user.groups === undefined || facts.user.groups.includes("docker")) return [];
    return [
        {
            id: "docker-host-group",
            severity: "warning",
            message: `dockerHost ssh://${facts.user.name}@…: ${facts.user.name} is not in the docker group, so a remote docker CLI gets "permission denied" on /var/run/docker.sock (the plan itself runs docker through sudo)`,
            fix: `sudo usermod -aG docker ${facts.user.name} (root-equivalent; a new SSH login picks it up), or use root for dockerHost`,
        },
    ];
}
