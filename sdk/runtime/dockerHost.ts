import { HostSnapshot } from "../host/snapshot";
import { Finding } from "../host/preflight";
import { RuntimeSpec } from "./engine";
import { knownEngine } from "./registry";

/** `ssh://user@host[:port]`, for `DOCKER_HOST` on a remote Docker client: the user is the runtime engine's, else the connection's. */
export function dockerHost(spec: Pick<RuntimeSpec, "runtime" | "rootlessUser">, connection: { user: string; host: string; port: number }): string {
    const user = knownEngine(spec.runtime)?.dockerHostUser(spec) ?? connection.user;
    return `ssh://${user}@${connection.host}${connection.port === 22 ? "" : `:${connection.port}`}`;
}

/** Warnings when `dockerHost` would not reach the runtime's daemon as its user: the runtime engine's own check. */
export function dockerHostFindings(snapshot: HostSnapshot, spec: Pick<RuntimeSpec, "runtime" | "rootlessUser" | "rootlessHome">): Finding[] {
    return knownEngine(spec.runtime)?.dockerHostFindings(snapshot, spec) ?? [];
}
