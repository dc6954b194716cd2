import { GpuConfigError } from "../errors";
import {
    JsonObject,
    canonicalJson,
    detectJsonIndent,
    getMember,
    jsonNodeOf,
    parseJsonDocument,
    plainValueOf,
    setMember,
    stringifyJsonDocument,
} from "../json/jsonDocument";
import { RenderResult, renderResult } from "../steps/renderResult";
import { validateRuntimeName, validateRuntimePath } from "./runtimeNames";

export const DOCKER_DAEMON_JSON = "/etc/docker/daemon.json";

/** What to register in Docker's `daemon.json`; mirrors `nvidia-ctk runtime configure --runtime=docker`. */
export interface DockerConfigOptions {
    /** Path of the file on the host, for messages and the result. Default `/etc/docker/daemon.json`. */
    path?: string;
    /** Runtime name (`--nvidia-runtime-name`). Default `nvidia`. */
    runtimeName?: string;
    /** Runtime executable (`--nvidia-runtime-path`). Default `nvidia-container-runtime`, found on dockerd's PATH. */
    runtimePath?: string;
    /** Make it Docker's `default-runtime` (`--set-as-default`). When false, an existing `default-runtime` is left as it is. */
    setAsDefault?: boolean;
    /** Set `features.cdi = true` (`--cdi.enabled`), keeping every other feature flag. */
    enableCdi?: boolean;
}

/**
 * Merges the NVIDIA runtime into a `daemon.json`. Every unrelated key, the key order, number
 * and string text and the indentation stay as they were; a missing file starts as `{}`.
 */
export function renderDockerConfig(current: string | undefined, options: DockerConfigOptions = {}): RenderResult {
    const path = options.path ?? DOCKER_DAEMON_JSON;
    const name = validateRuntimeName(options.runtimeName ?? "nvidia", "runtimeName");
    const runtimePath = validateRuntimePath(options.runtimePath ?? "nvidia-container-runtime", "runtimePath", false);

    const doc = current === undefined ? jsonNodeOf({}) : parseJsonDocument(current, path);
    if (doc.kind !== "object") {
        throw new GpuConfigError(path, "the top level is not a JSON object", "daemon.json must hold one object `{...}`; fix it by hand, it was left untouched");
    }
    const indent = detectJsonIndent(current);
    const before = canonicalJson(doc);
    const summary: string[] = [];

    const runtimes = objectMember(doc, "runtimes", path);
    const previousEntry = getMember(runtimes, name);
    const entry = jsonNodeOf({ path: runtimePath, args: [] });
    if (!previousEntry) summary.push(`runtimes.${name}: added (path ${runtimePath})`);
    else if (JSON.stringify(plainValueOf(previousEntry)) !== JSON.stringify(plainValueOf(entry))) {
        summary.push(`runtimes.${name}: replaced (path ${runtimePath})`);
    }
    setMember(runtimes, name, entry);

    if (options.setAsDefault) {
        const previousDefault = getMember(doc, "default-runtime");
        const was = previousDefault ? String(plainValueOf(previousDefault)) : "runc (built-in)";
        if (was !== name) summary.push(`default-runtime: ${was} → ${name}`);
        setMember(doc, "default-runtime", jsonNodeOf(name));
    }

    if (options.enableCdi) {
        // nvidia-ctk replaces every feature flag read from the file with {"cdi": true} (nvidia-ctk-behaviour §11 #1); we merge.
        const features = objectMember(doc, "features", path);
        const cdi = getMember(features, "cdi");
        if (!cdi || cdi.kind !== "scalar" || cdi.raw !== "true") {
            const kept = features.entries.filter((e) => e.key !== "cdi").map((e) => e.key);
            summary.push(`features.cdi: true${kept.length ? ` (kept ${kept.join(", ")})` : ""}`);
        }
        setMember(features, "cdi", jsonNodeOf(true));
    }

    if (current !== undefined && canonicalJson(doc) === before) {
        return renderResult(path, current, current, []); // never rewrite a file whose content is already right
    }
    const trailingNewline = current === undefined || current.endsWith("\n") ? "\n" : "";
    return renderResult(path, current, stringifyJsonDocument(doc, indent) + trailingNewline, summary);
}

/** The object at `key`, created when missing; any other type is refused (nvidia-ctk panics on it). */
function objectMember(doc: JsonObject, key: string, path: string): JsonObject {
    const existing = getMember(doc, key);
    if (existing === undefined) {
        const created: JsonObject = { kind: "object", entries: [] };
        setMember(doc, key, created);
        return created;
    }
    if (existing.kind !== "object") {
        throw new GpuConfigError(`${path}: "${key}"`, "is not a JSON object", `make "${key}" an object such as {} or remove it; the file was left untouched`);
    }
    return existing;
}
