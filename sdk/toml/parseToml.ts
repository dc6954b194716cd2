import * as TOML from "@iarna/toml";
import { GpuConfigError } from "../errors";

/** Parses TOML, turning a syntax error into a GpuConfigError that names the file and line. */
export function parseToml(text: string, fileLabel: string): TOML.JsonMap {
    try {
        return TOML.parse(text);
    } catch (error) {
        const e = error as { line?: number; col?: number; message: string };
        const where = e.line !== undefined ? ` line ${e.line + 1}` : "";
        throw new GpuConfigError(`${fileLabel}${where}`, `not valid TOML (${e.message.split("\n")[0]})`,
            "fix the file by hand; it was left untouched");
    }
}

/** Drops the parser's symbol-keyed bookkeeping so values compare as plain data. */
export function plain(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(plain);
    if (value instanceof Date) return value.toISOString();
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    }
    return value;
}
