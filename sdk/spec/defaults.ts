import { ContainerRuntime } from "./choices";

/** The Container Toolkit version a node gets when `toolkit.version` is not given: all four packages, with their release. */
export const DEFAULT_TOOLKIT_VERSION = "1.20.0-1";
/** The runtime a node is set up for when `runtime` is not given. */
export const DEFAULT_RUNTIME = ContainerRuntime.Docker;
/** The name of the runtime entry when `runtimeName` is not given. */
export const DEFAULT_RUNTIME_NAME = "nvidia";
