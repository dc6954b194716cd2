import { RuntimeEngine } from "./engine";
import { PODMAN_BOOT_DROP_IN, podmanBootOrderStep } from "./podmanBootOrder";
import { runtimePresent } from "./runtimePreflight";

/**
 * Podman: no daemon to configure. It reads the CDI spec the plan writes (`podman run --device nvidia.com/gpu=0`),
 * NVIDIA's route for Podman; cdiSpecFormatFindings warns where its version cannot read the spec. The one file it
 * writes orders podman-restart.service (which starts containers at boot) after that spec (podmanBootOrder.ts).
 */
export const podmanEngine: RuntimeEngine = {
    runtime: "podman",
    watchedFiles: () => [{ path: PODMAN_BOOT_DROP_IN }],
    configure: (snapshot) => {
        const step = podmanBootOrderStep(snapshot);
        return { steps: [step], files: step.files ?? [] };
    },
    restarts: false,
    preflight: [runtimePresent("podman", "Podman", (facts) => facts.podmanVersion !== undefined)],
    needsCdiSpec: () => true,
    verify: undefined,
    dockerHostUser: () => undefined,
    dockerHostFindings: () => [],
    toolkitSettings: () => [],
    dockerGpusFlag: false,
};
