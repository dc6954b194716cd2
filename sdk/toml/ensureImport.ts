import { isDeepStrictEqual } from "node:util";
import { GpuConfigError } from "../errors";
import { tomlBasicString } from "./goTomlEmitter";
import { parseToml, plain } from "./parseToml";
import { lineEnding, scanToml } from "./tomlText";

/**
 * Adds `pattern` to the top-level `imports` of a containerd `config.toml` by a minimal text edit:
 * every other byte, comments included, stays as it was (nvidia-ctk rewrites the whole file,
 * nvidia-ctk-behaviour §11 #3). Existing imports keep their order (§11 #15).
 * `versionIfMissing` is written too when the file has no `version` key.
 */
export function ensureImport(text: string, pattern: string, versionIfMissing: number, fileLabel: string): string {
    const before = parseToml(text, fileLabel);
    const imports = before.imports;
    if (Array.isArray(imports) && (imports as unknown[]).includes(pattern)) return text;
    if (typeof imports === "string" && imports === pattern) return text;

    const eol = lineEnding(text);
    const items = scanToml(text, fileLabel);
    const topLevel = items.filter((item) => item.kind === "keyValue" && item.tablePath.length === 0);
    const existing = topLevel.find((item) => item.kind === "keyValue" && item.path.length === 1 && item.path[0] === "imports");
    let edited: string;
    if (existing && existing.kind === "keyValue") {
        const raw = text.slice(existing.valueStart, existing.valueEnd);
        edited = text.slice(0, existing.valueStart) + appendToArrayText(raw, pattern) + text.slice(existing.valueEnd);
    } else {
        const versionItem = topLevel.find((item) => item.kind === "keyValue" && item.path.join(".") === "version");
        const importLine = `imports = [${tomlBasicString(pattern)}]${eol}`;
        if (versionItem) {
            edited = text.slice(0, versionItem.end) + terminated(text, versionItem.end, eol) + importLine + text.slice(versionItem.end);
        } else {
            const firstStatement = items.find((item) => item.kind === "keyValue" || item.kind === "header");
            const at = firstStatement ? firstStatement.start : text.length;
            const prefix = text.slice(0, at) + (at > 0 && !text.slice(0, at).endsWith("\n") ? eol : "");
            edited = prefix + `version = ${versionIfMissing}${eol}` + importLine + text.slice(at);
        }
    }

    // The edit must change exactly `imports` (and `version` when it was missing), nothing else.
    const expected = { ...before } as Record<string, unknown>;
    expected.imports = [...(Array.isArray(imports) ? imports : imports === undefined ? [] : [imports]), pattern];
    if (expected.version === undefined) expected.version = versionIfMissing;
    const after = parseToml(edited, fileLabel);
    if (!isDeepStrictEqual(plain(after), plain(expected))) {
        throw new GpuConfigError(
            fileLabel,
            "the `imports` line could not be edited without touching other settings",
            `add ${JSON.stringify(pattern)} to \`imports\` by hand, then run again`,
        );
    }
    return edited;
}

/** `"a"` → `["a", "p"]`; `[]` → `["p"]`; `["a"]` → `["a", "p"]`, keeping the array's own layout. */
function appendToArrayText(raw: string, pattern: string): string {
    const quoted = tomlBasicString(pattern);
    if (!raw.startsWith("[")) return `[${raw}, ${quoted}]`;
    const inner = raw.slice(1, -1);
    if (inner.trim() === "") return `[${quoted}]`;
    const lastElementEnd = endOfLastElement(inner);
    const separator = inner[lastElementEnd - 1] === "," ? " " : ", ";
    return `[${inner.slice(0, lastElementEnd)}${separator}${quoted}${inner.slice(lastElementEnd)}]`;
}

/** Index just past the last non-space character outside comments. */
function endOfLastElement(inner: string): number {
    let end = 0;
    let inString: string | null = null;
    for (let i = 0; i < inner.length; i++) {
        const c = inner[i];
        if (inString) {
            if (c === "\\" && inString === '"') i++;
            else if (c === inString) inString = null;
            end = i + 1;
        } else if (c === '"' || c === "'") {
            inString = c;
            end = i + 1;
        } else if (c === "#") {
            while (i < inner.length && inner[i] !== "\n") i++;
        } else if (!/\s/.test(c)) {
            end = i + 1;
        }
    }
    return end;
}

function terminated(text: string, at: number, eol: string): string {
    return at > 0 && text[at - 1] !== "\n" ? eol : "";
}
