import { GpuConfigError } from "../errors";

/**
 * Emits TOML in the layout of go-toml v1 `Tree.Marshal`, which nvidia-ctk, containerd and CRI-O
 * tooling use (nvidia-ctk-behaviour §3.5). Keys are sorted, so the same data always gives the
 * same bytes: used for the files this library creates (drop-ins), never for files it edits.
 */
export type TomlTable = { [key: string]: unknown };

export function emitGoToml(table: TomlTable): string {
    const lines: string[] = [];
    writeTable(table, [], lines);
    return lines.join("\n") + "\n";
}

function writeTable(table: TomlTable, path: string[], lines: string[]): void {
    const depth = path.length;
    const keyIndent = "  ".repeat(depth);
    const keys = Object.keys(table).sort(byteOrder);
    for (const key of keys) {
        const value = table[key];
        if (isTable(value) || isArrayOfTables(value)) continue;
        lines.push(`${keyIndent}${quoteKey(key)} = ${formatValue(value)}`);
    }
    const headerIndent = "  ".repeat(depth);
    for (const key of keys) {
        const value = table[key];
        const childPath = [...path, key];
        const header = childPath.map(quoteKey).join(".");
        if (isTable(value)) {
            lines.push("", `${headerIndent}[${header}]`);
            writeTable(value, childPath, lines);
        } else if (isArrayOfTables(value)) {
            for (const item of value) {
                lines.push("", `${headerIndent}[[${header}]]`);
                writeTable(item, childPath, lines);
            }
        }
    }
}

function byteOrder(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

export function isTable(value: unknown): value is TomlTable {
    return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

function isArrayOfTables(value: unknown): value is TomlTable[] {
    return Array.isArray(value) && value.length > 0 && value.every(isTable);
}

export function quoteKey(key: string): string {
    return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlBasicString(key);
}

/**
 * A TOML basic string. JSON.stringify escapes `"`, `\\` and U+0000–U+001F with escapes TOML shares, but
 * leaves DEL (U+007F) raw, which TOML 1.0 forbids in strings: DEL and the C1 controls (U+0080–U+009F) are
 * escaped too. A lone UTF-16 surrogate has no TOML form (`\\uD800` is not a Unicode scalar value): refused.
 */
export function tomlBasicString(value: string): string {
    if (LONE_SURROGATE.test(value)) {
        throw new GpuConfigError(
            "TOML value",
            `${JSON.stringify(value)} holds an unpaired UTF-16 surrogate, which TOML cannot hold`,
            "remove it from the value",
        );
    }
    return JSON.stringify(value).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function formatValue(value: unknown): string {
    if (typeof value === "string") return tomlBasicString(value);
    if (typeof value === "boolean" || typeof value === "bigint") return String(value);
    if (typeof value === "number") return Number.isNaN(value) ? "nan" : value === Infinity ? "inf" : value === -Infinity ? "-inf" : String(value);
    if (value instanceof Date) return value.toISOString().replace(".000Z", "Z");
    if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
    if (isTable(value)) {
        return `{${Object.keys(value)
            .sort(byteOrder)
            .map((k) => `${quoteKey(k)} = ${formatValue(value[k])}`)
            .join(", ")}}`;
    }
    throw new Error(`cannot write ${String(value)} as TOML`);
}
