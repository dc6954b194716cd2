/**
 * An error in user input or in a host file, reported with the field (or file and line)
 * at fault and the fix. Renderers throw it before producing anything, so nothing is
 * written when it is raised.
 */
export class GpuConfigError extends Error {
    /** The argument, stack-config key or file (with line) at fault, e.g. `daemon.json line 4`. */
    readonly field: string;
    /** What the user should do about it. */
    readonly fix: string;

    constructor(field: string, problem: string, fix: string) {
        super(`${field}: ${problem} — ${fix}`);
        this.name = "GpuConfigError";
        this.field = field;
        this.fix = fix;
    }
}
