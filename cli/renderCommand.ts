import * as fs from "node:fs";
import * as path from "node:path";
import { GpuConfigError } from "../sdk/errors";
import { unifiedDiff } from "../sdk/unifiedDiff";
import { renderContainerdConfig } from "../sdk/render/containerdConfig";
import { renderCrioConfig } from "../sdk/render/crioConfig";
import { renderDockerConfig } from "../sdk/render/dockerDaemonJson";
import { RenderResult } from "../sdk/render/renderResult";
import { parseToolkitSetting, renderToolkitConfig } from "../sdk/render/toolkitConfig";
import { ParsedFlags, booleanFlag, parseFlags, repeatedFlag, stringFlag } from "./flags";

/** Flags named like nvidia-ctk's (`runtime configure` and `config --set`), with its aliases. */
const RENDER_FLAGS = {
    config: "string",
    "set-as-default": "boolean",
    "cdi.enabled": "boolean",
    "nvidia-runtime-name": "string",
    "nvidia-runtime-path": "string",
    "drop-in-dir": "string",
    set: "repeated",
    out: "string",
    diff: "boolean",
} as const;

const RENDER_ALIASES = {
    "nvidia-set-as-default": "set-as-default",
    "cdi.enable": "cdi.enabled",
    "enable-cdi": "cdi.enabled",
    "runtime-path": "nvidia-runtime-path",
};

export const RENDER_TARGETS = ["docker", "containerd", "crio", "toolkit-config"] as const;
export type RenderTarget = (typeof RENDER_TARGETS)[number];

export function parseRenderFlags(args: string[]): ParsedFlags {
    return parseFlags(args, RENDER_FLAGS, RENDER_ALIASES);
}

/**
 * Renders the files for one target from the input file's text (undefined when missing) and
 * nvidia-ctk-style flags. Shared by the CLI and the golden tests, so both read flags one way.
 */
export function renderFromFlags(target: RenderTarget, input: string | undefined, flags: ParsedFlags): RenderResult[] {
    const common = {
        runtimeName: stringFlag(flags, "nvidia-runtime-name"),
        runtimePath: stringFlag(flags, "nvidia-runtime-path"),
        setAsDefault: booleanFlag(flags, "set-as-default"),
    };
    switch (target) {
        case "docker":
            return [renderDockerConfig(input, { ...common, enableCdi: booleanFlag(flags, "cdi.enabled") })];
        case "containerd": {
            const dropInDir = stringFlag(flags, "drop-in-dir") ?? "/etc/containerd/conf.d";
            const result = renderContainerdConfig(input, { ...common, enableCdi: booleanFlag(flags, "cdi.enabled"), dropInPath: `${dropInDir}/99-nvidia.toml` });
            return [result.topLevel, result.dropIn];
        }
        case "crio":
            return [renderCrioConfig(input, common)];
        case "toolkit-config":
            return [renderToolkitConfig(input, repeatedFlag(flags, "set").map(parseToolkitSetting))];
    }
}

/** `gpu-node render docker|containerd|crio|toolkit-config [flags]`. Returns the exit code. */
export function renderCommand(args: string[], out: NodeJS.WritableStream): number {
    const flags = parseRenderFlags(args);
    const target = flags.positional[0] as RenderTarget;
    if (!RENDER_TARGETS.includes(target)) {
        throw new GpuConfigError("render", `unknown target ${JSON.stringify(flags.positional[0] ?? "")}`, `use one of: ${RENDER_TARGETS.join(", ")}`);
    }
    const configPath = stringFlag(flags, "config");
    const input = configPath !== undefined && fs.existsSync(configPath) ? fs.readFileSync(configPath, "utf8") : undefined;
    const results = renderFromFlags(target, input, flags);
    const outDir = stringFlag(flags, "out");
    const writesFiles = target === "containerd" || target === "crio";
    if (writesFiles && outDir === undefined && !booleanFlag(flags, "diff")) {
        throw new GpuConfigError("--out", `is required for ${target}`, "give a folder: --out DIR");
    }
    let text = "";
    for (const result of results) {
        if (booleanFlag(flags, "diff")) text += unifiedDiff(result.path, result.previous ?? "", result.text, result.previous === undefined);
        else if (!writesFiles) text += result.text;
    }
    if (writesFiles && outDir !== undefined) {
        fs.mkdirSync(outDir, { recursive: true });
        for (const result of results) fs.writeFileSync(path.join(outDir, path.basename(result.path)), result.text);
    }
    out.write(text);
    return 0;
}
