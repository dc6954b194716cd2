import { guardedFileStep, revisionOf } from "../steps/guardedFileStep";
import { manageUserObjects } from "../steps/userObjectStep";
import { rootlessRestartStep } from "./restartStep";
import { renderDockerConfig } from "./dockerDaemonJson";
import { rootlessCliConfigPath, rootlessContextFindings } from "./dockerHostAccess";
import { rootlessDaemonJsonPath } from "../validate";
import { RuntimeEngine, renderOptions } from "./engine";
import { DOCKER_PREFLIGHT } from "./runtimePreflight";

/**
 * A user's rootless Docker daemon: `~/.config/docker/daemon.json`, restarted through `systemctl --user`. It gets its
 * GPUs through CDI (containers ask for `nvidia.com/gpu=…`), so the CDI spec is always written.
 */
export const dockerRootlessEngine: RuntimeEngine = {
    runtime: "docker-rootless",
    // One check of rootlessUser and rootlessHome (absolute, no `..`), shared with the files the preview reads.
    watchedFiles: (spec) => {
        const daemonJson = rootlessDaemonJsonPath(spec.rootlessUser, spec.rootlessHome);
        // Read only: its currentContext tells whether dockerHost reaches the rootless daemon.
        return [
            // owner: alice's own docker unit is read too, as alice (sdk/host/userObjects.ts).
            { path: daemonJson, userOwned: true, owner: spec.rootlessUser },
            { path: rootlessCliConfigPath(daemonJson), userOwned: true },
        ];
    },
    configure(snapshot, spec) {
        const path = rootlessDaemonJsonPath(spec.rootlessUser, spec.rootlessHome);
        const user = spec.rootlessUser!;
        const result = renderDockerConfig(snapshot.files[path], { ...renderOptions(spec), path });
        return {
            steps: [
                { ...guardedFileStep("docker-rootless-daemon-json", `${user}'s rootless Docker daemon.json`, result, snapshot, undefined, user), runAs: user },
                // Its objects are the user's docker unit, active and enabled: stopped or disabled by hand, it runs again (issue 22).
                { ...manageUserObjects(rootlessRestartStep(user, result, revisionOf([result], snapshot)), user, path, snapshot), runAs: user },
            ],
            files: [result],
        };
    },
    restarts: true,
    preflight: DOCKER_PREFLIGHT,
    needsCdiSpec: () => true,
    // The verify step runs as root and asks system daemons; the rootless restart step waits for the user's `docker info`.
    verify: undefined,
    // DOCKER_HOST must log in as the daemon's owner, not as root.
    dockerHostUser: (spec) => spec.rootlessUser || undefined,
    dockerHostFindings: (snapshot, spec) =>
        rootlessContextFindings(spec.rootlessUser!, snapshot.files[rootlessCliConfigPath(rootlessDaemonJsonPath(spec.rootlessUser, spec.rootlessHome))]),
    /**
     * The host-wide `no-cgroups`, which a rootful daemon on the same host needs false, is not flipped: in jit-cdi and
     * cdi modes the runtime reads no cgroup settings (NVIDIA/nvidia-container-toolkit#85). Only in legacy mode does
     * the rootless runtime call nvidia-container-cli, which must then skip cgroups, as NVIDIA's rootless guide says.
     */
    toolkitSettings: (mode) => (mode === "legacy" ? [{ key: "nvidia-container-cli.no-cgroups", value: true }] : []),
    dockerGpusFlag: true,
};
