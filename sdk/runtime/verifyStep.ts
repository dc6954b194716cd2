import { PlanStep } from "../steps/planStep";
import { ShellFragment, script, sh } from "../shell/shellScript";

/**
 * Checks that each configured runtime really knows the nvidia runtime; prints one line per runtime. With
 * `asDefault`, `$default` names it for the engines that check their default too (containerd); otherwise the
 * script is as before, so hosts that do not ask see no change of inputs.
 */
export function verifyRuntimesStep(
    runtimes: Array<{ runtime: string; verify: ShellFragment }>,
    runtimeName: string,
    revision = "",
    asDefault = false,
): PlanStep {
    const checks = asDefault ? [sh`default=${runtimeName}`, sh`: "$default"`, ...runtimes.map((r) => r.verify)] : runtimes.map((r) => r.verify);
    return {
        name: "verify-runtimes",
        description: `check that ${runtimes.map((r) => r.runtime).join(", ")} ${runtimes.length === 1 ? "lists" : "list"} the ${runtimeName} runtime`,
        // The revision (the config files' write generations) makes the check run again after every repair.
        script: script(sh`name=${runtimeName}`, sh`revision=${revision}`, sh`: "$revision"`, ...checks),
        changes: [],
        root: true,
    };
}
