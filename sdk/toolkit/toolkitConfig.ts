import { isDeepStrictEqual } from "node:util";
import { GpuConfigError } from "../errors";
import { parseToml, plain } from "../toml/parseToml";
import { maskCredentials } from "../secrets/credentials";
import { formatValue, quoteKey } from "../toml/goTomlEmitter";
import { lineEnding, samePath, scanToml } from "../toml/tomlText";
import { RenderResult, renderResult } from "../steps/renderResult";

export const TOOLKIT_CONFIG = "/etc/nvidia-container-runtime/config.toml";

type KeyType = "bool" | "string" | "list";

/** The keys `nvidia-ctk config --set` accepts (api/config/v1 at v1.20.0), with their types. */
export const TOOLKIT_CONFIG_KEYS: Readonly<Record<string, KeyType>> = {
    "accept-nvidia-visible-devices-envvar-when-unprivileged": "bool",
    "accept-nvidia-visible-devices-as-volume-mounts": "bool",
    "supported-driver-capabilities": "string",
    "disable-require": "bool",
    "swarm-resource": "string",
    "nvidia-container-cli.root": "string",
    "nvidia-container-cli.path": "string",
    "nvidia-container-cli.environment": "list",
    "nvidia-container-cli.debug": "string",
    "nvidia-container-cli.ldcache": "string",
    "nvidia-container-cli.load-kmods": "bool",
    "nvidia-container-cli.no-pivot": "bool",
    "nvidia-container-cli.no-cgroups": "bool",
    "nvidia-container-cli.user": "string",
    "nvidia-container-cli.ldconfig": "string",
    "nvidia-container-runtime.debug": "string",
    "nvidia-container-runtime.log-level": "string",
    "nvidia-container-runtime.runtimes": "list",
    "nvidia-container-runtime.mode": "string",
    "nvidia-container-runtime.modes.csv.mount-spec-path": "string",
    "nvidia-container-runtime.modes.cdi.default-kind": "string",
    "nvidia-container-runtime.modes.cdi.annotation-prefixes": "list",
    "nvidia-container-runtime.modes.cdi.spec-dirs": "list",
    "nvidia-container-runtime.modes.legacy.cuda-compat-mode": "string",
    "nvidia-container-runtime-hook.skip-mode-detection": "bool",
    "nvidia-container-runtime-hook.path": "string",
    "nvidia-ctk.path": "string",
};

/** `nvidia-container-runtime.mode`: how the runtime injects GPUs into containers. */
export const RUNTIME_MODE_KEY = "nvidia-container-runtime.mode";
export { RUNTIME_MODES, RuntimeModeName } from "../spec/choices";
import { RuntimeModeName } from "../spec/choices";

/** The edit that sets the runtime mode, as `nvidia-ctk config --set nvidia-container-runtime.mode=<mode> --in-place` makes it. */
export function runtimeModeSetting(mode: RuntimeModeName): ToolkitSetting {
    return { key: RUNTIME_MODE_KEY, value: mode };
}

/** The runtime mode a config.toml sets, or undefined when it sets none (the toolkit then uses `auto`). */
export function configuredRuntimeMode(text: string, path = TOOLKIT_CONFIG): string | undefined {
    const value = getAt(plain(parseToml(text, path)) as Record<string, unknown>, RUNTIME_MODE_KEY);
    return typeof value === "string" ? value : undefined;
}

/** Whether a toolkit config sets `nvidia-container-cli.no-cgroups = true` (rootless Docker in legacy mode needs it). */
export function setsNoCgroups(text: string, path = TOOLKIT_CONFIG): boolean {
    return getAt(plain(parseToml(text, path)) as Record<string, unknown>, "nvidia-container-cli.no-cgroups") === true;
}

/** One `--set KEY[=VALUE]` edit, parsed. */
export interface ToolkitSetting {
    key: string;
    value: boolean | string | string[];
}

/**
 * Parses `KEY[=VALUE]` with nvidia-ctk's rules: a bool without a value means true; a list splits
 * on ':' when it holds one, else on ','. Unknown keys are refused with the list of known ones.
 */
export function parseToolkitSetting(expression: string): ToolkitSetting {
    const eq = expression.indexOf("=");
    const key = eq === -1 ? expression : expression.slice(0, eq);
    const raw = eq === -1 ? undefined : expression.slice(eq + 1);
    const type = TOOLKIT_CONFIG_KEYS[key];
    if (type === undefined) {
        throw new GpuConfigError(
            `--set ${key}`,
            "is not a key of /etc/nvidia-container-runtime/config.toml",
            `use one of: ${Object.keys(TOOLKIT_CONFIG_KEYS).join(", ")}`,
        );
    }
    if (type === "bool") {
        if (raw === undefined || raw === "true") return { key, value: true };
        if (raw === "false") return { key, value: false };
        throw new GpuConfigError(`--set ${key}`, `${JSON.stringify(raw)} is not a boolean`, "use true or false, or no value for true");
    }
    if (raw === undefined) throw new GpuConfigError(`--set ${key}`, "needs a value", `write ${key}=VALUE`);
    if (/[\u0000-\u001f]/.test(raw)) throw new GpuConfigError(`--set ${key}`, "holds a control character", "remove it");
    if (type === "list") return { key, value: raw === "" ? [] : raw.split(raw.includes(":") ? ":" : ",") };
    return { key, value: raw };
}

/**
 * Applies `--set` edits to the toolkit's `config.toml` with the semantics of
 * `nvidia-ctk config --set … --in-place`, by changing only the lines of those keys: a set value
 * is replaced, a commented default (`#no-cgroups = false`) becomes the set line, other keys are
 * added to their table. Comments and every other line stay (nvidia-ctk re-serialises, §11 #17).
 */
export function renderToolkitConfig(current: string | undefined, settings: ToolkitSetting[], path = TOOLKIT_CONFIG): RenderResult {
    const start = current ?? DEFAULT_TOOLKIT_CONFIG;
    let text = start;
    const summary: string[] = [];
    const expected = plain(parseToml(start, path)) as Record<string, unknown>;
    for (const setting of lastWins(settings)) {
        const before = getAt(expected, setting.key);
        const edited = setKeyText(text, setting, path);
        if (edited !== text) {
            // Summaries are printed in previews and reports: a proxy URL in `environment` may hold user:pass.
            summary.push(maskCredentials(`${setting.key}: ${before === undefined ? "(default)" : formatValue(before)} → ${formatValue(setting.value)}`));
        }
        text = edited;
        setAt(expected, setting.key, setting.value);
    }
    if (!isDeepStrictEqual(plain(parseToml(text, path)), expected)) {
        throw new GpuConfigError(
            path,
            "the edit could not be made without touching other settings",
            "set the keys by hand with nvidia-ctk config --set, then run again",
        );
    }
    return renderResult(path, current, text, summary);
}

function lastWins(settings: ToolkitSetting[]): ToolkitSetting[] {
    const byKey = new Map<string, ToolkitSetting>();
    for (const s of settings) {
        byKey.delete(s.key);
        byKey.set(s.key, s);
    }
    return [...byKey.values()];
}

function setKeyText(text: string, setting: ToolkitSetting, path: string): string {
    const full = setting.key.split(".");
    const table = full.slice(0, -1);
    const key = full[full.length - 1];
    const value = formatValue(setting.value);
    const eol = lineEnding(text);
    const items = scanToml(text, path);

    const set = items.find((i) => i.kind === "keyValue" && samePath([...i.tablePath, ...i.path], full));
    if (set && set.kind === "keyValue") {
        if (text.slice(set.valueStart, set.valueEnd) === value) return text;
        return text.slice(0, set.valueStart) + value + text.slice(set.valueEnd);
    }
    const section = items.filter((i) => i.kind !== "header" && samePath(i.tablePath, table)); // items before the first header have tablePath []
    const line = `${quoteKey(key)} = ${value}${eol}`;
    const commented = new RegExp(`^\\s*#\\s*${escapeRegExp(key)}\\s*=`);
    const defaultLine = section.find((i) => i.kind === "comment" && commented.test(i.text));
    if (defaultLine) return text.slice(0, defaultLine.start) + line + text.slice(defaultLine.end);

    const header = items.find((i) => i.kind === "header" && !i.arrayOfTables && samePath(i.path, table));
    if (table.length > 0 && !header) {
        const separator = text === "" || text.endsWith(eol + eol) ? "" : text.endsWith("\n") ? eol : eol + eol;
        return `${text}${separator}[${table.map(quoteKey).join(".")}]${eol}${line}`;
    }
    const lastStatement = [...section].reverse().find((i) => i.kind === "keyValue" || i.kind === "comment");
    const at = lastStatement ? lastStatement.end : header ? header.end : 0;
    const needsBreak = at > 0 && text[at - 1] !== "\n";
    return text.slice(0, at) + (needsBreak ? eol : "") + line + text.slice(at);
}

function escapeRegExp(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function getAt(root: Record<string, unknown>, dotted: string): unknown {
    let node: unknown = root;
    for (const part of dotted.split(".")) {
        if (node === null || typeof node !== "object") return undefined;
        node = (node as Record<string, unknown>)[part];
    }
    return node;
}

function setAt(root: Record<string, unknown>, dotted: string, value: unknown): void {
    const parts = dotted.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
        if (node[part] === null || typeof node[part] !== "object") node[part] = {};
        node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
}

/** `nvidia-ctk config default` at v1.20.0 on a non-Ubuntu, non-SUSE host (nvidia-ctk-behaviour §6.2). */
export const DEFAULT_TOOLKIT_CONFIG = `#accept-nvidia-visible-devices-as-volume-mounts = false
#accept-nvidia-visible-devices-envvar-when-unprivileged = true
disable-require = false
supported-driver-capabilities = "compat32,compute,display,graphics,ngx,utility,video"
#swarm-resource = "DOCKER_RESOURCE_GPU"

[nvidia-container-cli]
#debug = "/var/log/nvidia-container-toolkit.log"
environment = []
#ldcache = "/etc/ld.so.cache"
ldconfig = "@/sbin/ldconfig"
load-kmods = true
#no-cgroups = false
#path = "/usr/bin/nvidia-container-cli"
#root = "/run/nvidia/driver"
#user = "root:video"

[nvidia-container-runtime]
#debug = "/var/log/nvidia-container-runtime.log"
log-level = "info"
mode = "auto"
runtimes = ["runc", "crun"]

[nvidia-container-runtime.modes]

[nvidia-container-runtime.modes.cdi]
annotation-prefixes = ["cdi.k8s.io/"]
default-kind = "nvidia.com/gpu"
spec-dirs = ["/etc/cdi", "/var/run/cdi"]

[nvidia-container-runtime.modes.csv]
mount-spec-path = "/etc/nvidia-container-runtime/host-files-for-container.d"

[nvidia-container-runtime.modes.legacy]
cuda-compat-mode = "ldconfig"

[nvidia-container-runtime-hook]
path = "nvidia-container-runtime-hook"
skip-mode-detection = false

[nvidia-ctk]
path = "nvidia-ctk"
`;
