import { GpuConfigError } from "../sdk/errors";

/** A flag's kind: a switch, a single value, or a value that may repeat. */
export type FlagKind = "boolean" | "string" | "repeated";

export interface ParsedFlags {
    positional: string[];
    values: Record<string, string | boolean | string[] | undefined>;
}

/**
 * Parses `--name`, `--name value` and `--name=value` against a table of flags (with aliases, as
 * nvidia-ctk has them). Unknown flags are refused, so a typo never silently changes a plan.
 */
export function parseFlags(args: string[], spec: Record<string, FlagKind>, aliases: Record<string, string> = {}): ParsedFlags {
    const values: ParsedFlags["values"] = {};
    const positional: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (!arg.startsWith("--")) {
            positional.push(arg);
            continue;
        }
        const eq = arg.indexOf("=");
        const given = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
        const name = aliases[given] ?? given;
        const kind = spec[name];
        if (kind === undefined) {
            throw new GpuConfigError(`--${given}`, "is not a flag of this command", `use one of: ${Object.keys(spec).map((f) => `--${f}`).join(", ")}`);
        }
        let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
        if (kind === "boolean") {
            if (value !== undefined && value !== "true" && value !== "false") {
                throw new GpuConfigError(`--${given}`, `${JSON.stringify(value)} is not true or false`, `write --${given} or --${given}=false`);
            }
            values[name] = value !== "false";
            continue;
        }
        if (value === undefined) {
            value = args[++i];
            if (value === undefined) throw new GpuConfigError(`--${given}`, "needs a value", `write --${given} VALUE`);
        }
        if (kind === "repeated") values[name] = [...((values[name] as string[] | undefined) ?? []), value];
        else values[name] = value;
    }
    return { positional, values };
}

export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
    const v = flags.values[name];
    return typeof v === "string" ? v : undefined;
}

export function booleanFlag(flags: ParsedFlags, name: string): boolean {
    return flags.values[name] === true;
}

export function repeatedFlag(flags: ParsedFlags, name: string): string[] {
    const v = flags.values[name];
    return Array.isArray(v) ? v : [];
}
