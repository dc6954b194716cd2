import { RuntimeEngine } from "./engine";
import { runtimePresent } from "./runtimePreflight";

/**
 * Podman: no daemon, nothing to configure. It reads the CDI spec the plan writes (`podman run --device
 * nvidia.com/gpu=0`), NVIDIA's route for Podman; cdiSpecFormatFindings warns where its version cannot read the spec.
 */
export const podmanEngine: RuntimeEngine = {
    runtime: "podman",
    watchedFiles: () => [],
    configure: () => ({ steps: [], files: [] }),
    restarts: false,
    preflight: [runtimePresent("podman", "Podman", (facts) => facts.podmanVersion !== undefined)],
    needsCdiSpec: () => true,
    verify: undefined,
    dockerHostUser: () => undefined,
    dockerHostFindings: () => [],
    toolkitSettings: () => [],
    dockerGpusFlag: false,
};
