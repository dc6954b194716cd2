import * as TOML from "@iarna/toml";
import { GpuConfigError } from "../errors";

/** Parses TOML, turning a syntax error into a GpuConfigError that names the file and line. */
export function parseToml(text: string, fileLabel: string): TOML.JsonMap {
    refuseRawControlCharacters(text, fileLabel);
    try {
        return TOML.parse(text);
    } catch (error) {
        const e = error as { line?: number; col?: number; message: string };
        const where = e.line !== undefined ? ` line ${e.line + 1}` : "";
        throw new GpuConfigError(`${fileLabel}${where}`, `not valid TOML (${e.message.split("\n")[0]})`, "fix the file by hand; it was left untouched");
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

/**
 * TOML 1.0 allows no raw control character but tab, and a CR only in CRLF, anywhere in a document (comments
 * and every kind of string included). @iarna/toml lets a bare CR through in multi-line strings; a file we
 * edit by text would then keep bytes that containerd's parser refuses, so it is refused here, by line.
 */
function refuseRawControlCharacters(text: string, fileLabel: string): void {
    const match = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\r(?!\n)/.exec(text);
    if (match === null) return;
    const line = text.slice(0, match.index).split("\n").length;
    const code = `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    throw new GpuConfigError(
        `${fileLabel} line ${line}`,
        `holds a raw control character ${code}${match[0] === "\r" ? " (a CR not followed by LF)" : ""}, which TOML 1.0 forbids`,
        `write it as an escape (\\u${code.slice(2).toLowerCase()}) inside a "basic string", or remove it; the file was left untouched`,
    );
}
