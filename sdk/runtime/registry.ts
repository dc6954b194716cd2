import { Runtime, RUNTIMES } from "../spec/choices";
import { validateChoice } from "../validate";
import { cdiEngine } from "./cdi";
import { containerdEngine } from "./containerd";
import { crioEngine } from "./crio";
import { dockerEngine } from "./docker";
import { dockerRootlessEngine } from "./dockerRootless";
import { podmanEngine } from "./podman";
import { RuntimeEngine } from "./engine";

/** Every runtime's engine: a new runtime is one engine file and one line here (the compiler asks for it). */
export const RUNTIME_ENGINES: Readonly<Record<Runtime, RuntimeEngine>> = {
    docker: dockerEngine,
    "docker-rootless": dockerRootlessEngine,
    containerd: containerdEngine,
    crio: crioEngine,
    cdi: cdiEngine,
    podman: podmanEngine,
};

/** The engine of a runtime the user named; an unknown one is refused naming `field` and the runtimes there are. */
export function engineOf(runtime: string, field = "runtime"): RuntimeEngine {
    return RUNTIME_ENGINES[validateChoice(runtime, RUNTIMES, field)];
}

/** The engine of a runtime, or undefined for a name no engine has (for code that must not throw before nodePlan does). */
export function knownEngine(runtime: string): RuntimeEngine | undefined {
    return (RUNTIMES as readonly string[]).includes(runtime) ? RUNTIME_ENGINES[runtime as Runtime] : undefined;
}
