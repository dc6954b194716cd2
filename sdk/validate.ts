import { GpuConfigError } from "./errors";

/**
 * Strict patterns for every user-given string that may reach a host file or a script.
 * A value is checked before anything is rendered, so `1.19.0-1; rm -rf /` never becomes a script.
 */
const PATTERNS = {
    /** Debian/RPM package version, e.g. `1.19.0-1`, `580.95.05-0ubuntu1`, `1:2.3~rc1`. */
    packageVersion: /^[0-9][A-Za-z0-9.+~:-]{0,63}$/,
    /** Dotted driver version, e.g. `580.159.04`. */
    driverVersion: /^[0-9]{3}(?:\.[0-9]{1,3}){1,2}$/,
    /** Driver branch, e.g. `580`. */
    driverBranch: /^[0-9]{3}$/,
    /** Runtime, user or unit name. */
    name: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    /** Absolute POSIX path without shell or glob metacharacters. */
    absolutePath: /^\/[A-Za-z0-9._+\/@-]{0,4095}$/,
    /** An http(s) base URL without spaces, quotes or shell metacharacters. */
    url: /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~%\/+-]*)?$/,
    /** OpenPGP fingerprint: 40 hex digits. */
    fingerprint: /^[0-9A-F]{40}$/,
};

export type PatternName = keyof typeof PATTERNS;

const DESCRIPTIONS: Record<PatternName, string> = {
    packageVersion: "a package version such as 1.19.0-1",
    driverVersion: "a driver version such as 580.95.05",
    driverBranch: "a three-digit driver branch such as 580",
    name: "a name of letters, digits, '.', '_' and '-'",
    absolutePath: "an absolute path of letters, digits and . _ + / @ -",
    url: "an http(s) URL without spaces, quotes or shell characters",
    fingerprint: "40 upper-case hex digits (gpg --with-colons shows it as fpr)",
};

export function validate(value: string, pattern: PatternName, field: string): string {
    if (typeof value !== "string" || !PATTERNS[pattern].test(value)) {
        throw new GpuConfigError(field, `${JSON.stringify(value)} is not valid`, `use ${DESCRIPTIONS[pattern]}`);
    }
    return value;
}

/** The value must be one of `allowed`; the error lists them. */
export function validateChoice<T extends string>(value: string, allowed: readonly T[], field: string): T {
    if (!(allowed as readonly string[]).includes(value)) {
        throw new GpuConfigError(field, `${JSON.stringify(value)} is not supported`, `use one of: ${allowed.join(", ")}`);
    }
    return value as T;
}

/**
 * Refuses a NUL anywhere in a user-given string: no file, argument or environment value can hold one,
 * and a shell or the kernel would cut the value at it. The value itself is not echoed, since it may
 * be a secret (a private key, a password).
 */
export function validateNoNul(value: string, field: string): string {
    if (typeof value === "string" && value.includes("\0")) {
        throw new GpuConfigError(
            field,
            `holds a NUL character at position ${value.indexOf("\0")}`,
            "remove it; no host file, argument or environment value can contain NUL",
        );
    }
    return value;
}

/**
 * A sudo password, sent as the first line of a command's stdin ahead of the script (`sudo -S` reads one line):
 * a line break or NUL in it would end the password early and make the rest the script's first line, run as
 * root. Refused by name; the value is never echoed (it is a secret).
 */
export function validateSudoPassword(value: string, field = "connection.sudoPassword"): string {
    validateNoNul(value, field);
    if (typeof value === "string" && /[\r\n]/.test(value)) {
        throw new GpuConfigError(
            field,
            "holds a line break (\\n or \\r)",
            "give the password without line breaks (a secret read from a file often ends with one: trim it); sudo -S reads only the first line of stdin, so no password with a line break can work",
        );
    }
    return value;
}

/**
 * validateNoNul for every string inside `value` (objects, arrays), naming each by its path under
 * `field`: `args[2]`, `env.FOO`, `connection.host`. Keys are checked too. Returns `value`.
 */
export function validateNoNulDeep<T>(value: T, field: string): T {
    const at = (key: string | number) => (typeof key === "number" ? `${field}[${key}]` : field === "" ? key : `${field}.${key}`);
    if (typeof value === "string") validateNoNul(value, field === "" ? "value" : field);
    else if (Array.isArray(value)) value.forEach((item, i) => validateNoNulDeep(item, at(i)));
    else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
            validateNoNul(key, `${at(key.replace(/\0/g, "\\0"))} (a name)`);
            validateNoNulDeep(item, at(key));
        }
    }
    return value;
}

/**
 * The folders CDI reads specs from (tags.cncf.io/container-device-interface: not recursive), and /run/cdi:
 * /var/run links to /run on every systemd host, so users write the default /var/run/cdi as /run/cdi.
 */
export const CDI_SPEC_DIRS = ["/etc/cdi", "/var/run/cdi", "/run/cdi"] as const;

/**
 * Where a CDI spec may be written: a `.yaml` or `.json` file directly in /etc/cdi, /var/run/cdi or /run/cdi,
 * named with letters, digits and `. _ + @ -`, not starting with `-` or `.`. Anything else would
 * replace (and on destroy delete) an unrelated file, or reach dirname/mktemp/rm as an option.
 */
export function validateCdiSpecOutput(value: string, field = "output"): string {
    if (typeof value !== "string") throw new GpuConfigError(field, "is not a string", "use a path such as /etc/cdi/nvidia.yaml");
    validateNoNul(value, field);
    const fix = `use a file directly in ${CDI_SPEC_DIRS.slice(0, -1).join(", ")} or ${CDI_SPEC_DIRS[CDI_SPEC_DIRS.length - 1]} ending in .yaml or .json, such as /etc/cdi/nvidia.yaml`;
    const at = value.lastIndexOf("/");
    const dir = value.slice(0, at);
    const base = value.slice(at + 1);
    if (value.split("/").some((segment) => segment === ".." || segment === ".")) {
        throw new GpuConfigError(field, `${JSON.stringify(value)} has a '.' or '..' segment`, fix);
    }
    if (!(CDI_SPEC_DIRS as readonly string[]).includes(dir)) {
        throw new GpuConfigError(field, `${JSON.stringify(value)} is not in a folder CDI reads`, fix);
    }
    if (!/^[A-Za-z0-9_+@][A-Za-z0-9._+@-]{0,250}\.(?:yaml|json)$/.test(base)) {
        throw new GpuConfigError(
            field,
            `${JSON.stringify(value)} is not a .yaml or .json file name of letters, digits and . _ + @ - (not starting with '-' or '.')`,
            fix,
        );
    }
    return value;
}

/**
 * A home folder given for a user (`rootlessHome`): absolute, no NUL, no empty, `.` or `..` segments,
 * and only the characters of an `absolutePath`. Checked before the host is read, so the raw value never
 * reaches the read-only snapshot script.
 */
export function validateHomeFolder(value: string, field = "rootlessHome"): string {
    if (typeof value !== "string") throw new GpuConfigError(field, "is not a string", "use an absolute path such as /home/alice");
    validateNoNul(value, field);
    if (!value.startsWith("/")) throw new GpuConfigError(field, `${JSON.stringify(value)} is not absolute`, "use an absolute path such as /home/alice");
    const segments = value.split("/").slice(1);
    if (value !== "/" && segments.some((s) => s === "" || s === "." || s === "..")) {
        throw new GpuConfigError(
            field,
            `${JSON.stringify(value)} has an empty, '.' or '..' segment`,
            "write the folder plainly, such as /home/alice (no //, /./, /../ or trailing /)",
        );
    }
    return validate(value, "absolutePath", field);
}

/**
 * The rootless daemon.json of `rootlessUser` (home `rootlessHome`, default `/home/<user>`), with both
 * fields validated: the one path the watched files and the plan must agree on.
 */
export function rootlessDaemonJsonPath(rootlessUser: string | undefined, rootlessHome: string | undefined): string {
    const user = validate(validateNoNul(rootlessUser ?? "", "rootlessUser"), "name", "rootlessUser");
    const home = validateHomeFolder(rootlessHome ?? `/home/${user}`, "rootlessHome");
    return `${home === "/" ? "" : home}/.config/docker/daemon.json`;
}
