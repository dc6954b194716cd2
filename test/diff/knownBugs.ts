/**
 * Every difference the differential suite allows between NVIDIA's nvidia-ctk v1.20.0 and our renderers:
 * one row per known nvidia-ctk bug (nvidia-ctk-behaviour.md §11, with its upstream issue), each fixed by us.
 * A case's differences must all be explained by rows here, or the case fails. A row either corrects
 * nvidia-ctk's parsed output to what it should have written (`correct`), or explains why exactly one side
 * refused the input (`explainsRefusal`), or checks the files' text where data alone hides it (`checkText`).
 */
import * as TOML from "@iarna/toml";

export type Target = "docker" | "containerd" | "crio" | "toolkit-config";

/** One differential case: an input file (undefined: missing) and nvidia-ctk's flags, without --runtime/--config paths. */
export interface DiffCase {
    target: Target;
    name: string;
    input: string | undefined;
    flags: string[];
}

/** What one side left: the files by base name (daemon.json, config.toml, 99-nvidia.toml), or its refusal. */
export type Outcome = { ok: true; files: Record<string, string> } | { ok: false; error: string };

export interface KnownBug {
    /** nvidia-ctk-behaviour.md's number, e.g. "§11 #1". */
    ref: string;
    /** The upstream issue or PR, or why there is none. */
    upstream: string;
    target: Target;
    /** What nvidia-ctk v1.20.0 does. */
    theirs: string;
    /** What we do instead. */
    ours: string;
    /** Mutates nvidia-ctk's parsed files into what they should have been; a no-op where the bug does not show. */
    correct?: (files: Record<string, any>, c: DiffCase) => void;
    /** True when this bug explains that nvidia-ctk and we disagree on refusing the input. */
    explainsRefusal?: (c: DiffCase, theirs: Outcome, ours: Outcome) => boolean;
    /** Text-level check: true when nvidia-ctk's text shows the bug; throws when ours shows it too. */
    checkText?: (c: DiffCase, theirs: Record<string, string>, ours: Record<string, string>) => boolean;
    /** Where the bug is shown by a dedicated test rather than by the generated cases. */
    dedicated?: string;
    /** Fixed in v1.20.0 itself: kept as a row so the fix stays asserted on our side, but nvidia-ctk no longer shows it. */
    fixedUpstream?: boolean;
}

export const RUNC_V2 = "io.containerd.runc.v2";
const CRI_PLUGINS = ["cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"];

export function hasFlag(c: DiffCase, flag: string): boolean {
    return c.flags.includes(flag);
}

export function flagValue(c: DiffCase, flag: string): string | undefined {
    const token = c.flags.find((f) => f.startsWith(`${flag}=`));
    return token === undefined ? undefined : token.slice(flag.length + 1);
}

function jsonInput(c: DiffCase): any {
    try {
        return c.input === undefined ? {} : JSON.parse(c.input);
    } catch {
        return undefined;
    }
}

const isObject = (v: unknown): v is Record<string, any> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The CRI runtime plugin table of a parsed containerd file, whichever version spells it. */
export function criOf(file: any): any {
    const plugins = file?.plugins ?? {};
    const name = CRI_PLUGINS.find((p) => isObject(plugins[p]?.containerd));
    return name === undefined ? undefined : plugins[name];
}

function tomlInput(c: DiffCase): any {
    try {
        return c.input === undefined ? {} : TOML.parse(c.input);
    } catch {
        return undefined;
    }
}

export const KNOWN_BUGS: KnownBug[] = [
    {
        ref: "§11 #1",
        upstream: "no issue for a daemon.json read from disk at v1.20.0; fixed on main by PR NVIDIA/nvidia-container-toolkit#2049 (2026-09-05), after v1.20.0",
        target: "docker",
        theirs: '--cdi.enabled replaces every feature flag read from daemon.json with {"cdi": true} (the map[string]bool type assertion fails)',
        ours: "merges cdi: true into the existing features",
        correct: (files, c) => {
            const features = jsonInput(c)?.features;
            if (hasFlag(c, "--cdi.enabled") && isObject(features) && isObject(files["daemon.json"]?.features)) {
                files["daemon.json"].features = { ...features, cdi: true };
            }
        },
    },
    {
        ref: "§11 #2 (empty file)",
        upstream: "no upstream issue",
        target: "docker",
        theirs: "an empty or whitespace-only daemon.json fails with `unable to load config for runtime docker: EOF`, exit 1",
        ours: "refuses it with the file, line and the fix (write {} or delete it)",
        explainsRefusal: (c, theirs, ours) =>
            c.input !== undefined && c.input.trim() === "" && !theirs.ok && /EOF/.test(theirs.error) && !ours.ok && /the file is empty/.test(ours.error),
    },
    {
        ref: "§11 #2 (trailing text)",
        upstream: "no upstream issue",
        target: "docker",
        theirs: "decodes only the first JSON value; text after it is silently ignored and lost on write",
        ours: "refuses the file with the line and column of the trailing text",
        explainsRefusal: (c, theirs, ours) => theirs.ok && jsonInput(c) === undefined && !ours.ok && /unexpected text after the JSON value/.test(ours.error),
    },
    {
        ref: "§11 #2 (types)",
        upstream: "no upstream issue",
        target: "docker",
        theirs: 'a non-object `runtimes` panics (exit 2); a non-object `features` with --cdi.enabled is silently replaced by {"cdi": true}',
        ours: "refuses the file naming the key, before writing anything",
        explainsRefusal: (c, theirs, ours) => {
            const input = jsonInput(c);
            if (ours.ok || !isObject(input)) return false;
            const badRuntimes = "runtimes" in input && !isObject(input.runtimes);
            const badFeatures = hasFlag(c, "--cdi.enabled") && "features" in input && !isObject(input.features);
            if (badRuntimes) return !theirs.ok && /panic/.test(theirs.error) && /"runtimes": is not a JSON object/.test(ours.error);
            return badFeatures && theirs.ok && /"features": is not a JSON object/.test(ours.error);
        },
    },
    {
        ref: "§11 #3",
        upstream: "no upstream issue (a TODO in pkg/config/engine/containerd: the top-level file is always saved)",
        target: "containerd",
        theirs: "rewrites config.toml on every run: comments stripped, keys re-sorted and re-indented",
        ours: "only inserts the imports entry; every comment and other byte stays",
        checkText: (c, theirs, ours) => {
            const comments = (c.input ?? "").split("\n").filter((l) => /^\s*#/.test(l));
            if (comments.length === 0) return false;
            const lost = comments.filter((l) => !ours["config.toml"].split("\n").includes(l));
            if (lost.length > 0) throw new Error(`our config.toml lost comment lines: ${lost.join(" | ")}`);
            return comments.some((l) => !theirs["config.toml"].split("\n").includes(l));
        },
    },
    {
        ref: "§11 #4 (no version / version 1)",
        upstream: "NVIDIA/nvidia-container-toolkit#1430",
        target: "containerd",
        theirs: "a config without `version` (or version 1) is written whole to the drop-in path, which nothing imports: a silent no-op",
        ours: "refuses it, saying to add `version = 2` or run `containerd config migrate`",
        explainsRefusal: (c, theirs, ours) => {
            const input = tomlInput(c);
            const v1 = isObject(input) && Object.keys(input).length > 0 && (input.version === undefined || input.version === 1);
            const noOp = theirs.ok && !/conf\.d\/\*\.toml/.test(theirs.files["config.toml"] ?? "");
            return v1 && noOp && !ours.ok && /version/.test(ours.error);
        },
    },
    {
        ref: "§11 #4 (CRI disabled)",
        upstream: "NVIDIA/nvidia-container-toolkit#1430",
        target: "containerd",
        theirs: "adds the runtime to a CRI plugin that disabled_plugins turns off (Docker's containerd.io default): containerd never uses it",
        ours: "refuses it, naming disabled_plugins and the fix",
        explainsRefusal: (c, theirs, ours) => {
            const input = tomlInput(c);
            const disabled = Array.isArray(input?.disabled_plugins) && input.disabled_plugins.some((p: unknown) => CRI_PLUGINS.includes(p as string));
            return disabled && theirs.ok && !ours.ok && /disabled_plugins/.test(ours.error);
        },
    },
    {
        ref: "§11 #20",
        upstream: "NVIDIA/k8s-device-plugin#1145 (no NVIDIA/nvidia-container-toolkit issue)",
        target: "containerd",
        theirs: "a config without a runc entry gets a drop-in whose CRI runtimes hold only nvidia; containerd < 2.1 replaces the CRI section on import, so the built-in runc disappears",
        ours: 'keeps `runc = { runtime_type = "io.containerd.runc.v2" }` in the drop-in',
        correct: (files) => {
            const cri = criOf(files["99-nvidia.toml"]);
            if (cri !== undefined && isObject(cri.containerd.runtimes) && cri.containerd.runtimes.runc === undefined) {
                cri.containerd.runtimes.runc = { runtime_type: RUNC_V2 };
            }
        },
    },
    {
        ref: "§11 #11",
        upstream: "NVIDIA/nvidia-container-toolkit#1956, fixed in v1.20.0 by #1969",
        target: "containerd",
        theirs: "≤ v1.19.x left runtime_type out when the copied runtime had none (containerd 2.3.1: `container.Runtime.Name must be set`); v1.20.0 fills it",
        ours: "always sets runtime_type; the harness asserts it on every rendered drop-in and in every containerd's dump",
        fixedUpstream: true,
        correct: (files, c) => {
            const cri = criOf(files["99-nvidia.toml"]);
            const entry = cri?.containerd?.runtimes?.[flagValue(c, "--nvidia-runtime-name") ?? "nvidia"];
            if (isObject(entry) && (typeof entry.runtime_type !== "string" || entry.runtime_type === "")) entry.runtime_type = RUNC_V2;
        },
    },
    {
        ref: "new: v2-only keys in v3/v4 drop-ins",
        upstream: "not in nvidia-ctk-behaviour.md §11 and no upstream issue found; found by this suite",
        target: "containerd",
        theirs: 'with no runtime to copy, the nvidia entry of a version 3 or 4 drop-in gets runtime_engine = "" and runtime_root = "", fields containerd 2.x no longer has: it logs `Ignoring unknown key in TOML for plugin` for both on every start',
        ours: "writes them only into version-2 drop-ins (containerd's merged config is the same)",
        correct: (files, c) => {
            const dropIn = files["99-nvidia.toml"];
            const entry = criOf(dropIn)?.containerd?.runtimes?.[flagValue(c, "--nvidia-runtime-name") ?? "nvidia"];
            const fallback = ["options", "privileged_without_host_devices", "runtime_engine", "runtime_root", "runtime_type"];
            if (
                dropIn?.version >= 3 &&
                isObject(entry) &&
                JSON.stringify(Object.keys(entry).sort()) === JSON.stringify(fallback) &&
                entry.runtime_engine === "" &&
                entry.runtime_root === ""
            ) {
                delete entry.runtime_engine;
                delete entry.runtime_root;
            }
        },
    },
    {
        ref: "NVIDIA/aicr#1688",
        upstream: "NVIDIA/aicr#1688; same cause: azimuth-cloud/capi-helm-charts#838, beclab/Olares#1603; containerd/containerd#12891",
        target: "containerd",
        theirs: "with --config-source=command (the operator installer's default) the drop-in takes `containerd config dump`'s version: 4 on containerd 2.3 over a version-2 config.toml; containerd 2.3.4 exits with `drop-in config version 4 higher than root config version 2`",
        ours: "the drop-in always takes the root file's version (a missing root takes the dump's, and the new root says the same)",
        dedicated: "test/diff/containerdVersions.diff.ts",
    },
    {
        ref: "new: --set splits values at commas",
        upstream:
            "not in nvidia-ctk-behaviour.md §11 and no upstream issue found; found by this suite: cmd/nvidia-ctk/main.go sets DisableSliceFlagSeparator on the root command only, and urfave/cli v3.10.1 reads it from the subcommand",
        target: "toolkit-config",
        theirs: "`nvidia-ctk config --set KEY=a,b` splits the value at the comma into two --set options and fails (`invalid --set option b`), so comma-separated lists and values such as supported-driver-capabilities=compute,utility cannot be set",
        ours: "applies the value: a list splits at ',' (or ':' when it holds one), as nvidia-ctk's own --set parsing documents; a string is kept whole",
        explainsRefusal: (c, theirs, ours) => {
            const sets = c.flags.filter((f, i) => c.flags[i - 1] === "--set" && f.includes(","));
            if (sets.length === 0 || theirs.ok || !/invalid --set option/.test(theirs.error) || !ours.ok) return false;
            const data = TOML.parse(ours.files["config.toml"]) as any;
            const lastByKey = new Map(c.flags.filter((f, i) => c.flags[i - 1] === "--set").map((f) => [f.split("=")[0], f] as const));
            return sets.every((set) => {
                const [key, ...rest] = set.split("=");
                if (lastByKey.get(key) !== set) return true; // a later --set of the same key wins
                const value = rest.join("=");
                const actual = key.split(".").reduce((t: any, k) => t?.[k], data);
                const expected = Array.isArray(actual) ? value.split(value.includes(":") ? ":" : ",") : value;
                return JSON.stringify(actual) === JSON.stringify(expected);
            });
        },
    },
    {
        ref: "§11 #14",
        upstream: "no upstream issue; related NVIDIA/nvidia-container-toolkit#681, cri-o/cri-o#8873",
        target: "crio",
        theirs: "deep-copies the inherited runtime whole, its runtime_root (e.g. /run/crun) and runtime_config_path included",
        ours: "copies the runtime's options but not the keys naming its own state",
        correct: (files, c) => {
            const entry = files["99-nvidia.toml"]?.crio?.runtime?.runtimes?.[flagValue(c, "--nvidia-runtime-name") ?? "nvidia"];
            if (isObject(entry)) {
                delete entry.runtime_root;
                delete entry.runtime_config_path;
            }
        },
    },
];
