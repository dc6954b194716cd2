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
