import { RuntimeEngine } from "./engine";

/** CDI only: no daemon is configured or restarted; the CDI spec is written for Podman and other CDI-native runtimes. */
export const cdiEngine: RuntimeEngine = {
    runtime: "cdi",
    watchedFiles: () => [],
    configure: () => ({ steps: [], files: [] }),
    restarts: false,
    preflight: [],
    needsCdiSpec: () => true,
    verify: undefined,
    dockerHostUser: () => undefined,
    dockerHostFindings: () => [],
    toolkitSettings: () => [],
    dockerGpusFlag: false,
};
