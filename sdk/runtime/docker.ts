import { guardedFileStep, revisionOf } from "../steps/guardedFileStep";
import { restartStep } from "./restartStep";
import { DOCKER_DAEMON_JSON, renderDockerConfig } from "./dockerDaemonJson";
import { sh } from "../shell/shellScript";
import { RuntimeEngine, ServiceControl, renderOptions } from "./engine";
import { DOCKER_PREFLIGHT } from "./runtimePreflight";
import { dockerGroupFindings } from "./dockerHostAccess";

export const DOCKER_SERVICE: ServiceControl = {
    unit: "docker",
    validate: sh`if dockerd --help 2>/dev/null | grep -q -- '--validate'; then dockerd --validate --config-file /etc/docker/daemon.json; fi`,
    restart: sh`systemctl restart docker`,
    ready: sh`docker info >/dev/null 2>&1`,
    logs: sh`journalctl -u docker -n 15 --no-pager 2>/dev/null || true`,
};

/** The system Docker daemon: /etc/docker/daemon.json with the nvidia runtime. */
export const dockerEngine: RuntimeEngine = {
    runtime: "docker",
    watchedFiles: () => [{ path: DOCKER_DAEMON_JSON }],
    configure(snapshot, spec) {
        const result = renderDockerConfig(snapshot.files[DOCKER_DAEMON_JSON], renderOptions(spec));
        const revision = revisionOf([result], snapshot);
        return {
            steps: [
                guardedFileStep("docker-daemon-json", "Docker daemon.json with the nvidia runtime", result, snapshot, "docker"),
                restartStep(DOCKER_SERVICE, [result], revision),
            ],
            files: [result],
        };
    },
    restarts: true,
    preflight: DOCKER_PREFLIGHT,
    needsCdiSpec: (enableCdi) => enableCdi,
    verify: sh`docker info --format '{{json .Runtimes}}' | grep -qF "\\"$name\\"" || { echo "error: docker info does not list the $name runtime" >&2; exit 8; }
echo "docker: $name runtime registered"`,
    dockerHostUser: () => undefined,
    dockerHostFindings: (snapshot) => dockerGroupFindings(snapshot.facts),
    toolkitSettings: () => [],
    dockerGpusFlag: true,
};
