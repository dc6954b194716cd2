/**
 * Credentials in host configs we read (containerd `registry.configs."<host>".auth`, Docker and CRI-O
 * settings, proxy URLs with `user:pass@`): found in parsed configs, so a plan can keep them out of more
 * readable files, and masked in text, so previews, plan reports and stack outputs never show them.
 * A masked value keeps its key, so a diff still shows which setting changed.
 */

/** What a credential value is replaced with. */
export const MASK = "********";

/** Keys (compared without case, `_` and `-`) whose string value is a credential as a whole. */
const EXACT_KEYS = new Set(["auth", "username", "identitytoken", "registrytoken", "apikey", "privatekey", "accesskey", "secretkey", "clientsecret"]);
/** Parts of key names that mark a credential: `password`, `sudo_password`, `registry-token`, `client_secret`. */
const KEY_PARTS = ["password", "passwd", "passphrase", "secret", "token"];

/** Whether a config key (TOML, JSON or an environment variable name) holds a credential. */
export function isCredentialKey(key: string): boolean {
    const normalized = key.toLowerCase().replace(/[_-]/g, "");
    return EXACT_KEYS.has(normalized) || KEY_PARTS.some((part) => normalized.includes(part));
}

/** One credential found in a parsed config: where it is and how it was recognised. */
export interface FoundCredential {
    /** Keys (and array indices) from the document's root to the value. */
    path: Array<string | number>;
    /** `key`: the key names a credential; `url`: a URL with `user:pass@`; `env`: `NAME=value` with a credential NAME. */
    kind: "key" | "url" | "env";
    /** The credential value itself: never log it. */
    value: string;
}

/** `scheme://userinfo@`: the userinfo is masked as a whole (it may be a token alone). */
const URL_USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#@"'<>\\]+)@/g;
/** `NAME=value` as in an environment list (`HTTPS_PROXY=…`, `REGISTRY_PASSWORD=…`). */
const ENV_ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/s;

/**
 * Every credential in a parsed config (the plain objects of parseToml, JSON.parse or plainValueOf).
 * Pure: the document is not changed.
 */
export function findCredentials(document: unknown): FoundCredential[] {
    const found: FoundCredential[] = [];
    const walk = (value: unknown, path: Array<string | number>): void => {
        if (typeof value === "string") {
            const key = path[path.length - 1];
            if (typeof key === "string" && isCredentialKey(key) && value !== "") {
                found.push({ path, kind: "key", value });
                return;
            }
            const env = ENV_ASSIGNMENT.exec(value);
            if (env && isCredentialKey(env[1])) {
                found.push({ path, kind: "env", value: env[2] });
                return;
            }
            for (const match of value.matchAll(URL_USERINFO)) found.push({ path, kind: "url", value: match[2] });
        } else if (Array.isArray(value)) {
            value.forEach((item, i) => walk(item, [...path, i]));
        } else if (value !== null && typeof value === "object" && !(value instanceof Date)) {
            for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
        }
    };
    walk(document, []);
    return found;
}

/**
 * Whether a parsed config (or one of its tables, such as containerd's CRI plugin section) holds any
 * credential. A plan uses it to choose: keep a file that copies such a table at mode 0600, or copy
 * only the tables the runtime entry needs.
 */
export function hasCredentials(document: unknown): boolean {
    return findCredentials(document).length > 0;
}

/** A copy of a parsed config with every credential value replaced by MASK (keys kept). */
export function maskCredentialValues<T>(document: T): T {
    const mask = (value: unknown, key: string | number | undefined): unknown => {
        if (typeof value === "string") {
            if (typeof key === "string" && isCredentialKey(key) && value !== "") return MASK;
            const env = ENV_ASSIGNMENT.exec(value);
            if (env && isCredentialKey(env[1])) return `${env[1]}=${MASK}`;
            return value.replace(URL_USERINFO, `$1${MASK}@`);
        }
        if (Array.isArray(value)) return value.map((item, i) => mask(item, i));
        if (value !== null && typeof value === "object" && !(value instanceof Date)) {
            return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, mask(item, k)]));
        }
        return value;
    };
    return mask(document, undefined) as T;
}

/**
 * `key = "value"` (TOML, also inside inline tables and after a diff's `+`/`-`), `"key": "value"` (JSON)
 * and `key: "value"` (YAML). The key is bare or quoted; the value is a basic, literal or multi-line string.
 */
const KEY_VALUE = /(^|[\s{,.+\-])("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+)(\s*[=:]\s*)("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')/gm;
/** `NAME=value` inside a quoted string or a line, value up to the closing quote, a space, `,` or `]`. */
const ENV_IN_TEXT = /(^|["'\s,[])([A-Za-z_][A-Za-z0-9_]*)=([^"'\s,\]][^"'\s,\]]*)/gm;

/**
 * The text (a config file, a unified diff, a preview log line, a plan report) with every credential value
 * replaced by `********`: values of credential keys, the userinfo of URLs (`http://********@proxy:3128`)
 * and `NAME=value` assignments with a credential NAME. Idempotent; text without credentials is unchanged.
 */
export function maskCredentials(text: string): string {
    const byKey = text.replace(KEY_VALUE, (match, before: string, rawKey: string, separator: string, value: string) => {
        const key = /^["']/.test(rawKey) ? unquoteKey(rawKey) : rawKey;
        if (!isCredentialKey(key)) return match;
        const quote = value.startsWith('"""') || value.startsWith("'''") ? value.slice(0, 3) : value[0];
        if (value === `${quote}${quote}`) return match; // an empty value hides nothing
        return `${before}${rawKey}${separator}${quote}${MASK}${quote}`;
    });
    const byEnv = byKey.replace(ENV_IN_TEXT, (match, before: string, name: string) => (isCredentialKey(name) ? `${before}${name}=${MASK}` : match));
    return byEnv.replace(URL_USERINFO, `$1${MASK}@`);
}

function unquoteKey(raw: string): string {
    if (raw.startsWith("'")) return raw.slice(1, -1);
    try {
        return JSON.parse(raw) as string;
    } catch {
        return raw.slice(1, -1);
    }
}
