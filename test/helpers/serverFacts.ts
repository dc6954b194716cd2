import { DockerFacts, HostFacts, parseHostFacts } from "../../sdk/host/hostFacts";
import { probeFixture } from "./paths";

/** Docker 27.5 as a provisioned server has it: systemd cgroups, runc only. A new object each call: tests change it. */
export const serverDocker = (): DockerFacts => ({
    path: "/usr/bin/docker",
    clientVersion: "27.5.1",
    serverVersion: "27.5.1",
    snap: false,
    rootless: false,
    desktop: false,
    runtimes: ["runc"],
    cgroupDriver: "systemd",
});

/**
 * The real H100 probe (recorded in a sandbox without systemd and without container runtimes) as the
 * server it stands for: systemd as PID 1, and Docker, containerd and CRI-O installed, so that plans for
 * every runtime pass preflight. Tests of preflight itself use the recorded facts unchanged.
 */
export function serverFacts(fixture = "h100-ubuntu2404-root.json"): HostFacts {
    const facts = parseHostFacts(probeFixture(fixture));
    return {
        ...facts,
        systemd: true,
        docker: facts.docker ?? serverDocker(),
        containerd: facts.containerd ?? { version: "1.7.27", configVersion: 2 },
        crioVersion: facts.crioVersion ?? "1.32.0",
    };
}
