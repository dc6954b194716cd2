/**
 * The one way scripts are built: every interpolated value is single-quoted, so no user-given
 * string can change a script's meaning. Trusted script text goes in through `sh` literals only.
 */
const FRAGMENT = Symbol("shell-fragment");

/** Script text that is already safe: the literal parts of `sh` templates, and their results. */
export interface ShellFragment {
    readonly [FRAGMENT]: string;
}

export type ShellValue = string | number | readonly string[] | ShellFragment;

/** Quotes one word for POSIX sh: `it's` → `'it'\''s'`. NUL bytes cannot be passed at all. */
export function quote(value: string): string {
    if (value.includes("\0")) throw new Error("a shell argument cannot contain a NUL byte");
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A template tag: `sh\`apt-get install -y ${packages}\`` quotes each value; arrays become quoted words. */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellFragment {
    // A template with an invalid escape (`\(` instead of `\\(`) has no cooked text: refuse it at once.
    if (strings.some((s) => s === undefined)) throw new Error(`invalid escape in a script template: ${strings.raw.join("${…}").slice(0, 80)}`);
    let text = strings[0];
    values.forEach((value, i) => {
        text += render(value) + strings[i + 1];
    });
    return { [FRAGMENT]: text };
}

function render(value: ShellValue): string {
    if (typeof value === "number") return String(value);
    if (typeof value === "string") return quote(value);
    if (isFragment(value)) return value[FRAGMENT];
    return value.map(quote).join(" ");
}

function isFragment(value: unknown): value is ShellFragment {
    return typeof value === "object" && value !== null && FRAGMENT in value;
}

/** Joins fragments into a script, one per line. */
export function lines(...fragments: ShellFragment[]): ShellFragment {
    return { [FRAGMENT]: fragments.map((f) => f[FRAGMENT]).join("\n") };
}

/** The final script text: `#!/bin/sh`, `set -eu`, then the body. */
export function script(...fragments: ShellFragment[]): string {
    return `#!/bin/sh\nset -eu\n${fragments.map((f) => f[FRAGMENT]).join("\n")}\n`;
}

/**
 * A here-document holding `content` verbatim, for `cat > FILE`. The quoted delimiter turns off
 * every expansion; it is derived from the content and checked not to occur in it.
 */
export function heredoc(content: string, tag: string): ShellFragment {
    let delimiter = `NVIDIA_GPU_${tag.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}_EOF`;
    while (content.split("\n").includes(delimiter)) delimiter += "_";
    const body = content.endsWith("\n") ? content : `${content}\n`;
    return { [FRAGMENT]: `<<'${delimiter}'\n${body}${delimiter}` };
}

export function textOf(fragment: ShellFragment): string {
    return fragment[FRAGMENT];
}
