import * as fs from "node:fs";
import * as path from "node:path";
import { Argument, Command, Option } from "commander";
import { GpuConfigError } from "../sdk/errors";
import { unifiedDiff } from "../sdk/report/unifiedDiff";
import { CONTAINERD_CONFIG, renderContainerdConfig } from "../sdk/runtime/containerdConfig";
import { CRIO_CONFIG, renderCrioConfig } from "../sdk/runtime/crioConfig";
import { DOCKER_DAEMON_JSON, renderDockerConfig } from "../sdk/runtime/dockerDaemonJson";
import { RenderResult } from "../sdk/steps/renderResult";
import { TOOLKIT_CONFIG, parseToolkitSetting, renderToolkitConfig } from "../sdk/toolkit/toolkitConfig";
import { CommandIo, UsageError, collect, configureCommand, switchOption } from "./cliCommon";

export const RENDER_TARGETS = ["docker", "containerd", "crio", "toolkit-config"] as const;
export type RenderTarget = (typeof RENDER_TARGETS)[number];

/** The file each target edits on a host; the renderers name it in their messages. */
const HOST_FILE: Record<RenderTarget, string> = {
    docker: DOCKER_DAEMON_JSON,
    containerd: CONTAINERD_CONFIG,
    crio: CRIO_CONFIG,
    "toolkit-config": TOOLKIT_CONFIG,
};

/** The flags of `render`, named like nvidia-ctk's (`runtime configure` and `config --set`). */
export interface RenderFlags {
    config?: string;
    setAsDefault: boolean;
    cdiEnabled: boolean;
    runtimeName?: string;
    runtimePath?: string;
    dropInDir: string;
    set: string[];
    out?: string;
    diff: boolean;
}

/** nvidia-ctk's other spellings of the same flags, so its command lines work unchanged. */
const ALIASES: Record<string, string> = {
    "nvidia-set-as-default": "set-as-default",
    "cdi.enable": "cdi.enabled",
    "enable-cdi": "cdi.enabled",
    "runtime-path": "nvidia-runtime-path",
};
const SWITCHES = ["set-as-default", "cdi.enabled", "diff"];

function addRenderOptions(command: Command): Command {
    return (
        command
            .addOption(
                new Option(
                    "--config <file>",
                    "the file to update, as nvidia-ctk's --config; a missing file in an existing folder starts empty, as with nvidia-ctk (default: none, start empty)",
                ),
            )
            .addOption(
                switchOption("--set-as-default", "make the NVIDIA runtime the default runtime (docker, containerd, crio; alias --nvidia-set-as-default)"),
            )
            .addOption(switchOption("--cdi.enabled", "enable CDI in the runtime (docker, containerd; aliases --cdi.enable, --enable-cdi)"))
            .addOption(new Option("--nvidia-runtime-name <name>", "the runtime's name").default("nvidia"))
            .addOption(
                new Option(
                    "--nvidia-runtime-path <path>",
                    "the runtime executable (alias --runtime-path) (default: nvidia-container-runtime on dockerd's PATH; /usr/bin/nvidia-container-runtime for containerd and crio)",
                ),
            )
            .addOption(new Option("--drop-in-dir <dir>", "containerd: the folder of the drop-in, imported by config.toml").default("/etc/containerd/conf.d"))
            .addOption(new Option("--set <key[=value]>", "toolkit-config: set one key of config.toml; repeatable (default: none)").argParser(collect))
            .addOption(
                new Option(
                    "--out <dir>",
                    "write the files into this folder; required for containerd and crio unless --diff (default: none, docker and toolkit-config print to stdout)",
                ),
            )
            .addOption(switchOption("--diff", "print a unified diff against --config instead of the files"))
            // `--flag=false`, as nvidia-ctk accepts it: rewritten to these before parsing.
            .addOption(new Option("--no-set-as-default").hideHelp())
            .addOption(new Option("--no-cdi.enabled").hideHelp())
            .addOption(new Option("--no-diff").hideHelp())
    );
}

/** nvidia-ctk's aliases → our names, and `--switch=true|false` → `--switch` / `--no-switch`. */
function normaliseArgs(args: readonly string[]): string[] {
    return args.map((arg) => {
        if (!arg.startsWith("--")) return arg;
        const eq = arg.indexOf("=");
        const given = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
        const name = ALIASES[given] ?? given;
        if (eq === -1) return `--${name}`;
        const value = arg.slice(eq + 1);
        if (!SWITCHES.includes(name)) return `--${name}=${value}`;
        if (value === "true") return `--${name}`;
        if (value === "false") return `--no-${name}`;
        throw new UsageError(`--${given}`, `${JSON.stringify(value)} is not true or false`, `write --${given} or --${given}=false`);
    });
}

function flagsOf(options: Record<string, unknown>): RenderFlags {
    return {
        config: options.config as string | undefined,
        setAsDefault: options.setAsDefault === true,
        cdiEnabled: options["cdi.enabled"] === true,
        runtimeName: options.nvidiaRuntimeName as string | undefined,
        runtimePath: options.nvidiaRuntimePath as string | undefined,
        dropInDir: options.dropInDir as string,
        set: (options.set as string[] | undefined) ?? [],
        out: options.out as string | undefined,
        diff: options.diff === true,
    };
}

/** Reads nvidia-ctk-style flags (no target) the way `gpu-node render` does; for the golden tests. */
export function parseRenderFlags(tokens: readonly string[]): RenderFlags {
    const command = addRenderOptions(configureCommand(new Command("render"), { out: process.stdout }));
    command.parse(normaliseArgs(tokens), { from: "user" });
    return flagsOf(command.opts());
}

/**
 * Renders the files for one target from the input file's text (undefined when missing) and
 * nvidia-ctk-style flags. Shared by the CLI and the golden tests, so both read flags one way.
 */
export function renderFromFlags(target: RenderTarget, input: string | undefined, flags: RenderFlags): RenderResult[] {
    const common = { runtimeName: flags.runtimeName, runtimePath: flags.runtimePath, setAsDefault: flags.setAsDefault };
    switch (target) {
        case "docker":
            return [renderDockerConfig(input, { ...common, enableCdi: flags.cdiEnabled })];
        case "containerd": {
            const result = renderContainerdConfig(input, {
                ...common,
                enableCdi: flags.cdiEnabled,
                dropInPath: `${flags.dropInDir.replace(/\/+$/, "")}/99-nvidia.toml`,
            });
            return [result.topLevel, result.dropIn];
        }
        case "crio":
            return [renderCrioConfig(input, common)];
        case "toolkit-config":
            return [renderToolkitConfig(input, flags.set.map(parseToolkitSetting))];
    }
}

/** `gpu-node render docker|containerd|crio|toolkit-config [flags]`. */
export function renderCommand(io: CommandIo): Command {
    const command = new Command("render")
        .description("render a runtime's config as nvidia-ctk would, minus its bugs; nothing on the machine is changed")
        .addArgument(new Argument("<target>", "what to render").choices(RENDER_TARGETS));
    addRenderOptions(command).action((target: RenderTarget, options: Record<string, unknown>) => {
        const flags = flagsOf(options);
        const input = readConfig(flags.config, io.err);
        let results: RenderResult[];
        try {
            results = renderFromFlags(target, input, flags);
        } catch (error) {
            throw flags.config === undefined ? error : namingGivenFile(error, HOST_FILE[target], flags.config);
        }
        const writesFiles = target === "containerd" || target === "crio";
        if (writesFiles && flags.out === undefined && !flags.diff)
            throw new UsageError("--out", `is required for ${target}`, "give a folder: --out DIR, or print a diff with --diff");
        let text = "";
        for (const result of results) {
            if (flags.diff) text += unifiedDiff(result.path, result.previous ?? "", result.text, result.previous === undefined);
            else if (!writesFiles) text += result.text;
        }
        if (writesFiles && flags.out !== undefined) writeFiles(flags.out, results);
        io.out.write(text);
    });
    return command;
}

/** Adds nvidia-ctk's spellings before commander reads the line. */
export function normaliseRenderArgs(args: readonly string[]): string[] {
    return args[0] === "render" ? ["render", ...normaliseArgs(args.slice(1))] : [...args];
}

/**
 * The text of `--config`: undefined for a missing file in an existing folder (a new file, as
 * nvidia-ctk treats it, said on stderr), an error naming the path for anything else.
 */
function readConfig(file: string | undefined, err: NodeJS.WritableStream): string | undefined {
    if (file === undefined) return undefined;
    const full = path.resolve(file);
    let stat: fs.Stats | undefined;
    try {
        stat = fs.statSync(full);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT")
            throw new GpuConfigError(`--config ${file}`, `cannot be read (${(error as NodeJS.ErrnoException).code})`, "check the path and its permissions");
    }
    if (stat === undefined) {
        const folder = path.dirname(full);
        if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
            throw new GpuConfigError(`--config ${file}`, `the folder ${folder} does not exist`, "give an existing file, or a new file in an existing folder");
        }
        err.write(`gpu-node render: note: ${file} does not exist; rendering it as a new file, as nvidia-ctk does\n`);
        return undefined;
    }
    if (stat.isDirectory()) throw new GpuConfigError(`--config ${file}`, "is a folder", "give the config file's path");
    try {
        return fs.readFileSync(full, "utf8");
    } catch (error) {
        throw new GpuConfigError(`--config ${file}`, `cannot be read (${(error as NodeJS.ErrnoException).code})`, "check its permissions");
    }
}

/** The renderers name the file by its place on a host; the user gave another path, so name that one. */
function namingGivenFile(error: unknown, hostFile: string, given: string): unknown {
    if (!(error instanceof GpuConfigError) || !error.field.startsWith(hostFile)) return error;
    const rest = error.message.slice(error.field.length + 2);
    const problem = rest.endsWith(` — ${error.fix}`) ? rest.slice(0, -(error.fix.length + 3)) : rest;
    return new GpuConfigError(given + error.field.slice(hostFile.length), problem, error.fix);
}

function writeFiles(outDir: string, results: RenderResult[]): void {
    try {
        fs.mkdirSync(outDir, { recursive: true });
        for (const result of results) fs.writeFileSync(path.join(outDir, path.basename(result.path)), result.text);
    } catch (error) {
        throw new GpuConfigError(
            `--out ${outDir}`,
            `cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
            "give a folder you can write to",
        );
    }
}
