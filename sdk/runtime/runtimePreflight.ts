import { Finding, PreflightRule, Severity, finding } from "../host/preflight";
import { HostFacts } from "../host/hostFacts";
import { atLeast } from "../versions";

/** The oldest Docker NVIDIA's Container Toolkit supports (its install guide). */
export const MINIMUM_DOCKER = "18.09";

/**
 * Without the runtime the plan would write its config and then wait 60 s for a restart that cannot work.
 * `runtime` is the daemon as the user knows it (rootless Docker: docker), `product` what to install.
 */
export function runtimePresent(runtime: string, product: string, present: (facts: HostFacts) => boolean): PreflightRule {
    return (facts) =>
        present(facts)
            ? []
            : [
                  {
                      id: "runtime-missing",
                      severity: "error",
                      message: `runtime ${runtime} is asked for, but no ${runtime} binary was found on the host`,
                      fix: `install ${product} first, or set runtime to the one the host has (docker, docker-rootless, containerd, crio, podman, or cdi for CDI only)`,
                  },
              ];
}

/** Docker as a snap keeps its daemon.json in the snap and cannot use the NVIDIA runtime installed on the host. */
const snapDocker: PreflightRule = (facts): Finding[] =>
    facts.docker?.snap
        ? [
              {
                  id: "snap-docker",
                  severity: "error",
                  message:
                      "Docker is installed as a snap: its daemon.json lives in /var/snap/docker/current/config/ and the snap cannot use the NVIDIA runtime installed on the host",
                  fix: "remove the snap (`snap remove docker`) and install Docker from your distribution or Docker's apt/dnf repository",
              },
          ]
        : [];

/** NVIDIA's Container Toolkit install guide: Docker 18.09 or newer. */
const dockerVersion: PreflightRule = (facts): Finding[] => {
    const version = facts.docker?.serverVersion ?? facts.docker?.clientVersion;
    if (version === undefined || atLeast(version, MINIMUM_DOCKER)) return [];
    return [
        {
            id: "docker-too-old",
            severity: "error",
            message: `Docker ${version} is older than ${MINIMUM_DOCKER}, the oldest NVIDIA supports`,
            fix: `upgrade Docker to ${MINIMUM_DOCKER} or newer`,
        },
    ];
};

/** The rules of both Docker engines (rootful and rootless: the same binary and packages). */
export const DOCKER_PREFLIGHT: readonly PreflightRule[] = [
    snapDocker,
    dockerVersion,
    runtimePresent("docker", "Docker Engine", (facts) => facts.docker !== undefined),
];

/**
 * The host's runtime side: not Docker Desktop, the configured runtime's own rules (its daemon is there, in a version
 * NVIDIA supports), and systemd where the plan restarts a service.
 */
export function runtimeHostFindings(facts: HostFacts, rules: readonly PreflightRule[], restarts: readonly string[]): Finding[] {
    const findings: Finding[] = [];
    const add = (id: string, severity: Severity, message: string, fix: string) => findings.push(finding(id, severity, message, fix));
    if (facts.docker?.desktop) {
        add(
            "docker-desktop",
            "error",
            "this Docker is Docker Desktop, whose daemon runs in its own VM",
            "configure GPU support in Docker Desktop (WSL2 backend), or use Docker Engine on the host",
        );
    }
    // The runtime's own rules (sdk/runtime): its daemon is there, in a version NVIDIA supports.
    for (const rule of rules) findings.push(...rule(facts));
    if (restarts.length > 0 && !facts.systemd) {
        add(
            "no-systemd",
            "error",
            `the plan changes the configuration of ${restarts.join(", ")} and must restart it, but the host does not run systemd (the restart and its rollback use systemctl)`,
            "boot the host with systemd (on WSL2: [boot] systemd=true in /etc/wsl.conf), or set runtime: cdi to only write the CDI spec",
        );
    }
    return findings;
}
