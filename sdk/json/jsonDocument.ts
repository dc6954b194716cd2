import { GpuConfigError } from "../errors";

/**
 * A JSON document that keeps what a plain JSON.parse would lose: key order, the exact text of
 * numbers (no float64 rounding of `12345678901234567890`) and of strings (escapes as written).
 * Used to edit files owned by someone else, such as `/etc/docker/daemon.json`.
 */
export type JsonNode = JsonObject | JsonArray | JsonScalar;

export interface JsonObject {
    kind: "object";
    entries: JsonEntry[];
    /** The source text of an untouched object; written back as it was. Cleared by setMember. */
    source?: string;
}

export interface JsonEntry {
    key: string;
    /** The key as written in the source, quotes and escapes included. */
    rawKey: string;
    value: JsonNode;
}

export interface JsonArray {
    kind: "array";
    items: JsonNode[];
    /** The source text, written back as it was. */
    source?: string;
}

export interface JsonScalar {
    kind: "scalar";
    /** The source text, e.g. `12345678901234567890`, `"a\u003cb"`, `true`. */
    raw: string;
}

/** Parses strict JSON (RFC 8259): one value, nothing after it, no duplicate keys. */
export function parseJsonDocument(text: string, fileLabel: string): JsonNode {
    const parser = new Parser(text, fileLabel);
    parser.skipSpace();
    if (parser.atEnd()) {
        parser.fail("the file is empty", "write `{}` into it or delete it; dockerd cannot start with an empty file either");
    }
    const value = parser.value();
    parser.skipSpace();
    if (!parser.atEnd()) {
        // nvidia-ctk silently ignores trailing bytes after the first value (nvidia-ctk-behaviour §11 #2).
        parser.fail("unexpected text after the JSON value", "remove the trailing text; the file must hold exactly one JSON object");
    }
    return value;
}

class Parser {
    private pos = 0;

    constructor(
        private readonly text: string,
        private readonly fileLabel: string,
    ) {}

    atEnd(): boolean {
        return this.pos >= this.text.length;
    }

    skipSpace(): void {
        while (this.pos < this.text.length && " \t\r\n".includes(this.text[this.pos])) {
            this.pos++;
        }
    }

    fail(problem: string, fix = "fix the JSON by hand; the file was left untouched"): never {
        const before = this.text.slice(0, this.pos);
        const line = before.split("\n").length;
        const column = this.pos - before.lastIndexOf("\n");
        throw new GpuConfigError(`${this.fileLabel} line ${line} column ${column}`, problem, fix);
    }

    value(): JsonNode {
        this.skipSpace();
        const c = this.text[this.pos];
        const start = this.pos;
        if (c === "{" || c === "[") {
            const node = c === "{" ? this.object() : this.array();
            node.source = this.text.slice(start, this.pos);
            return node;
        }
        if (c === '"') return { kind: "scalar", raw: this.stringLiteral() };
        const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.text.slice(this.pos));
        if (!literal) this.fail(c === undefined ? "unexpected end of file" : `unexpected character '${c}'`);
        this.pos += literal[0].length;
        return { kind: "scalar", raw: literal[0] };
    }

    private object(): JsonObject {
        this.pos++; // {
        const entries: JsonEntry[] = [];
        const seen = new Set<string>();
        this.skipSpace();
        if (this.text[this.pos] === "}") {
            this.pos++;
            return { kind: "object", entries };
        }
        for (;;) {
            this.skipSpace();
            if (this.text[this.pos] !== '"') this.fail("expected a quoted key");
            const rawKey = this.stringLiteral();
            const key = JSON.parse(rawKey) as string;
            if (seen.has(key)) this.fail(`duplicate key "${key}"`, "keep one of the two entries; dockerd would reject the file");
            seen.add(key);
            this.skipSpace();
            if (this.text[this.pos] !== ":") this.fail("expected ':' after the key");
            this.pos++;
            entries.push({ key, rawKey, value: this.value() });
            this.skipSpace();
            const next = this.text[this.pos];
            this.pos++;
            if (next === "}") return { kind: "object", entries };
            if (next !== ",") {
                this.pos--;
                this.fail("expected ',' or '}'");
            }
        }
    }

    private array(): JsonArray {
        this.pos++; // [
        const items: JsonNode[] = [];
        this.skipSpace();
        if (this.text[this.pos] === "]") {
            this.pos++;
            return { kind: "array", items };
        }
        for (;;) {
            items.push(this.value());
            this.skipSpace();
            const next = this.text[this.pos];
            this.pos++;
            if (next === "]") return { kind: "array", items };
            if (next !== ",") {
                this.pos--;
                this.fail("expected ',' or ']'");
            }
        }
    }

    private stringLiteral(): string {
        const match = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(this.text.slice(this.pos));
        if (!match) this.fail("invalid or unterminated string");
        this.pos += match[0].length;
        return match[0];
    }
}

/**
 * Serialises a document, one top-level member per line, with the given indent unit (e.g. 4 spaces or
 * a tab). Objects and arrays below the top that were not changed are written exactly as they were read,
 * so only what changed shows in a diff. Edits therefore go through setMember, which marks its object.
 */
export function stringifyJsonDocument(node: JsonNode, indent: string): string {
    return write(node, indent, "", true, true);
}

/** The document laid out afresh, ignoring source text: equal for documents with equal content. */
export function canonicalJson(node: JsonNode): string {
    return write(node, " ", "", true, false);
}

function write(node: JsonNode, indent: string, current: string, isRoot: boolean, verbatim: boolean): string {
    if (node.kind === "scalar") return node.raw;
    if (verbatim && !isRoot && node.source !== undefined) return node.source;
    const inner = current + indent;
    if (node.kind === "array") {
        if (node.items.length === 0) return "[]";
        return `[\n${node.items.map((item) => inner + write(item, indent, inner, false, verbatim)).join(",\n")}\n${current}]`;
    }
    if (node.entries.length === 0) return "{}";
    const members = node.entries.map((e) => `${inner}${e.rawKey}: ${write(e.value, indent, inner, false, verbatim)}`);
    return `{\n${members.join(",\n")}\n${current}}`;
}

/** The indent unit the file already uses; 4 spaces (Docker's and nvidia-ctk's) for one-line or new files. */
export function detectJsonIndent(text: string | undefined): string {
    const match = text === undefined ? null : /\n([ \t]+)\S/.exec(text);
    return match ? match[1] : "    ";
}

/** Converts a plain value into a node; used for the parts this library writes itself. */
export function jsonNodeOf(value: unknown): JsonNode {
    if (Array.isArray(value)) return { kind: "array", items: value.map(jsonNodeOf) };
    if (value !== null && typeof value === "object") {
        return {
            kind: "object",
            entries: Object.entries(value).map(([key, v]) => ({ key, rawKey: jsonString(key), value: jsonNodeOf(v) })),
        };
    }
    return { kind: "scalar", raw: typeof value === "string" ? jsonString(value) : JSON.stringify(value) };
}

/**
 * A JSON string with every control character escaped: JSON.stringify escapes U+0000–U+001F but leaves
 * DEL (U+007F) and the C1 controls (U+0080–U+009F) raw, which then reach terminals and diffs as is.
 */
export function jsonString(value: string): string {
    return JSON.stringify(value).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The plain value of a node (numbers through JSON.parse, so only for comparisons and summaries). */
export function plainValueOf(node: JsonNode): unknown {
    if (node.kind === "scalar") return JSON.parse(node.raw);
    if (node.kind === "array") return node.items.map(plainValueOf);
    return Object.fromEntries(node.entries.map((e) => [e.key, plainValueOf(e.value)]));
}

export function getMember(node: JsonObject, key: string): JsonNode | undefined {
    return node.entries.find((e) => e.key === key)?.value;
}

/** Sets a member in place: replaces the value where the key exists, else appends it. */
export function setMember(node: JsonObject, key: string, value: JsonNode): void {
    delete node.source;
    const existing = node.entries.find((e) => e.key === key);
    if (existing) existing.value = value;
    else node.entries.push({ key, rawKey: jsonString(key), value });
}
