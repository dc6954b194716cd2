/** The container runtimes a node can be set up for. `cdi` only writes the CDI spec (Podman, CDI-native runtimes). */
export const RUNTIMES = ["docker", "docker-rootless", "containerd", "crio", "cdi"] as const;
export type Runtime = (typeof RUNTIMES)[number];
