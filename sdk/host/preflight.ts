import { HostFacts } from "./hostFacts";

/**
 * How serious a finding is. A string enum in the "as const" form: Pulumi's schema sees an enum, and
 * TypeScript callers may write `Severity.Error` or the plain string `"error"`.
 */
export const Severity = {
    /** Stops the node's plan before anything runs. */
    Error: "error",
    /** Worth fixing; the plan goes on. */
    Warning: "warning",
    /** For information only. */
    Info: "info",
} as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** One preflight result: what is wrong and what to do. An `error` stops the node's plan. */
export interface Finding {
    /** Stable id, e.g. `docker-too-old`. */
    id: string;
    /** `error` (stops the plan), `warning` or `info`. */
    severity: Severity;
    /** What is wrong, naming the host's fact or the input at fault. */
    message: string;
    /** What to do about it. */
    fix: string;
}

/** A preflight rule of one domain (a runtime's, say): the findings it has for a host. */
export type PreflightRule = (facts: HostFacts) => Finding[];

/** A finding's constructor, for rules that add several. */
export function finding(id: string, severity: Severity, message: string, fix: string): Finding {
    return { id, severity, message, fix };
}
