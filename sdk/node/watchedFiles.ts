import { WatchedFile } from "../host/snapshot";
import { TOOLKIT_CONFIG } from "../toolkit/toolkitConfig";
import { RuntimeSpec } from "../runtime/engine";
import { knownEngine } from "../runtime/registry";
import { DRIVER_WATCHED_FILES } from "../driver/driverPlan";
import { toolkitWatchedFiles } from "../toolkit/toolkitPlan";

/** The files a node's plan may edit, read at preview: the toolkit's, the driver's hold, and its runtime engine's. */
export function watchedFiles(spec: RuntimeSpec & { driver?: unknown }): WatchedFile[] {
    // The repository definitions of every package manager: which one the host uses is known only once it is read.
    const files: WatchedFile[] = [{ path: TOOLKIT_CONFIG }, ...toolkitWatchedFiles()];
    if (spec.driver !== undefined) files.push(...DRIVER_WATCHED_FILES.map((path) => ({ path })));
    // An unknown runtime reads no runtime files: nodePlan refuses it, naming the field.
    files.push(...(knownEngine(spec.runtime)?.watchedFiles(spec) ?? []));
    return files;
}
