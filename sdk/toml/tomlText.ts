import { GpuConfigError } from "../errors";

/**
 * A line-level map of a TOML file's text, so that one value can be changed while every other
 * byte (comments, order, indentation, quoting) stays as its owner wrote it. It does not
 * interpret values; callers check the edited text with a real TOML parser.
 */
export type TomlItem =
    | { kind: "header"; path: string[]; arrayOfTables: boolean; start: number; end: number }
    | { kind: "keyValue"; path: string[]; tablePath: string[]; start: number; valueStart: number; valueEnd: number; end: number }
    | { kind: "comment"; text: string; tablePath: string[]; start: number; end: number }
    | { kind: "blank"; tablePath: string[]; start: number; end: number };

export function scanToml(text: string, fileLabel: string): TomlItem[] {
    return new Scanner(text, fileLabel).items();
}

class Scanner {
    private pos = 0;
    private tablePath: string[] = [];

    constructor(
        private readonly text: string,
        private readonly fileLabel: string,
    ) {}

    items(): TomlItem[] {
        const items: TomlItem[] = [];
        while (this.pos < this.text.length) {
            const start = this.pos;
            this.skipInlineSpace();
            const c = this.text[this.pos];
            if (c === "\n" || c === "\r" || c === undefined) {
                this.toLineEnd();
                items.push({ kind: "blank", tablePath: this.tablePath, start, end: this.pos });
            } else if (c === "#") {
                this.toLineEnd();
                items.push({ kind: "comment", text: this.text.slice(start, this.pos), tablePath: this.tablePath, start, end: this.pos });
            } else if (c === "[") {
                const arrayOfTables = this.text[this.pos + 1] === "[";
                this.pos += arrayOfTables ? 2 : 1;
                const path = this.keyPath();
                this.skipInlineSpace();
                const close = arrayOfTables ? "]]" : "]";
                if (!this.text.startsWith(close, this.pos)) this.fail(`expected '${close}' to close the table header`);
                this.pos += close.length;
                this.restOfLine();
                this.tablePath = path;
                items.push({ kind: "header", path, arrayOfTables, start, end: this.pos });
            } else {
                const path = this.keyPath();
                this.skipInlineSpace();
                if (this.text[this.pos] !== "=") this.fail("expected '=' after the key");
                this.pos++;
                this.skipInlineSpace();
                const valueStart = this.pos;
                this.value();
                const valueEnd = this.pos;
                this.restOfLine();
                items.push({ kind: "keyValue", path, tablePath: this.tablePath, start, valueStart, valueEnd, end: this.pos });
            }
        }
        return items;
    }

    private fail(problem: string): never {
        const line = this.text.slice(0, this.pos).split("\n").length;
        throw new GpuConfigError(`${this.fileLabel} line ${line}`, problem, "fix the TOML by hand; the file was left untouched");
    }

    private skipInlineSpace(): void {
        while (this.text[this.pos] === " " || this.text[this.pos] === "\t") this.pos++;
    }

    private toLineEnd(): void {
        const nl = this.text.indexOf("\n", this.pos);
        this.pos = nl === -1 ? this.text.length : nl + 1;
    }

    /** After a header or value: only spaces and a comment may follow on the line. */
    private restOfLine(): void {
        this.skipInlineSpace();
        const c = this.text[this.pos];
        if (c !== undefined && c !== "#" && c !== "\n" && c !== "\r") this.fail(`unexpected '${c}' after the value`);
        this.toLineEnd();
    }

    private keyPath(): string[] {
        const parts: string[] = [];
        for (;;) {
            this.skipInlineSpace();
            parts.push(this.keyPart());
            this.skipInlineSpace();
            if (this.text[this.pos] !== ".") return parts;
            this.pos++;
        }
    }

    private keyPart(): string {
        const c = this.text[this.pos];
        if (c === '"') return JSON.parse(this.basicString());
        if (c === "'") {
            const end = this.text.indexOf("'", this.pos + 1);
            if (end === -1) this.fail("unterminated quoted key");
            const key = this.text.slice(this.pos + 1, end);
            this.pos = end + 1;
            return key;
        }
        const bare = /^[A-Za-z0-9_-]+/.exec(this.text.slice(this.pos));
        if (!bare) this.fail(c === undefined ? "unexpected end of file" : `unexpected '${c}' where a key was expected`);
        this.pos += bare[0].length;
        return bare[0];
    }

    private basicString(): string {
        const match = /^"(?:[^"\\\n]|\\.)*"/.exec(this.text.slice(this.pos));
        if (!match) this.fail("unterminated string");
        this.pos += match[0].length;
        return match[0];
    }

    /** Skips one value of any type, across lines where TOML allows it. */
    private value(): void {
        const rest = this.text.slice(this.pos);
        for (const quote of ['"""', "'''"]) {
            if (rest.startsWith(quote)) {
                const end = this.text.indexOf(quote, this.pos + 3);
                if (end === -1) this.fail("unterminated multi-line string");
                this.pos = end + 3;
                while (this.text[this.pos] === quote[0]) this.pos++; // up to two quotes may end the content
                return;
            }
        }
        const c = this.text[this.pos];
        if (c === '"') {
            this.basicString();
        } else if (c === "'") {
            const end = this.text.indexOf("'", this.pos + 1);
            if (end === -1) this.fail("unterminated literal string");
            this.pos = end + 1;
        } else if (c === "[" || c === "{") {
            this.container(c === "[" ? "]" : "}");
        } else {
            // Numbers, booleans and date-times; a date may be followed by " HH:MM:SS" (TOML allows a space).
            const scalar = /^(?:\d{4}-\d{2}-\d{2} \d{2}:\d{2}[^\s#,\]}]*|[^\s#,\]}]+)/.exec(rest);
            if (!scalar) this.fail("missing value");
            this.pos += scalar[0].length;
        }
    }

    private container(close: string): void {
        this.pos++;
        for (;;) {
            while (/\s/.test(this.text[this.pos] ?? "x") || this.text[this.pos] === ",") this.pos++;
            const c = this.text[this.pos];
            if (c === undefined) this.fail(`unterminated ${close === "]" ? "array" : "inline table"}`);
            if (c === close) {
                this.pos++;
                return;
            }
            if (c === "#") {
                this.toLineEnd();
            } else if (close === "}") {
                this.keyPath();
                this.skipInlineSpace();
                if (this.text[this.pos] !== "=") this.fail("expected '=' in inline table");
                this.pos++;
                this.skipInlineSpace();
                this.value();
            } else {
                this.value();
            }
        }
    }
}

export function samePath(a: readonly string[], b: readonly string[]): boolean {
    return a.length === b.length && a.every((part, i) => part === b[i]);
}

/** The line ending the file uses. */
export function lineEnding(text: string): string {
    return text.includes("\r\n") ? "\r\n" : "\n";
}
