import { GpuConfigError } from "../errors";
import { heredoc, textOf } from "../shell/shellScript";

/** The shell variable the secret preamble sets: the path of a 0600 env-file that the step's shell removes on exit. */
export const SECRET_ENV_FILE_VAR = "secret_env_file";

/** Environment variable names, as `docker run --env-file` reads them. */
export function secretEnvNames(names: readonly string[], field: string): string[] {
    for (const k of names)
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new GpuConfigError(`${field}.${k}`, "is not a variable name", "use letters, digits and _");
    return [...names].sort();
}

/**
 * Shell text that writes the secret variables into a fresh 0600 file (mktemp) and removes it when the step's shell
 * exits. It is prepended to the step's script on the command's stdin, which is a Pulumi secret: the values are never
 * in the script, its preview, an argument list, a log line or an output. Values are refused, by name only, when
 * `--env-file` cannot carry them (a line break or NUL).
 */
export function secretEnvPreamble(values: Record<string, string>, field: string): string {
    const names = secretEnvNames(Object.keys(values), field);
    for (const k of names) {
        if (typeof values[k] !== "string" || /[\n\r\0]/.test(values[k]))
            throw new GpuConfigError(
                `${field}.${k}`,
                "holds a line break or NUL (the value is not shown)",
                "docker's --env-file takes one line per variable: give a one-line value",
            );
    }
    const body = names.map((k) => `${k}=${values[k]}`).join("\n");
    return `${SECRET_ENV_FILE_VAR}=$(mktemp) || exit 1
trap 'rm -f "$${SECRET_ENV_FILE_VAR}"' EXIT
cat > "$${SECRET_ENV_FILE_VAR}" ${textOf(heredoc(body, "secret_env"))}
`;
}
