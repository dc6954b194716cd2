import { PlanStep } from "../steps/planStep";
import { ShellFragment, script, sh } from "../shell/shellScript";

/** Checks that each configured runtime really knows the nvidia runtime; prints one line per runtime. */
export function verifyRuntimesStep(runtimes: Array<{ runtime: string; verify: ShellFragment }>, runtimeName: string, revision = ""): PlanStep {
    return {
        name: "verify-runtimes",
        description: `check that ${runtimes.map((r) => r.runtime).join(", ")} ${runtimes.length === 1 ? "lists" : "list"} the ${runtimeName} runtime`,
        // The revision (the config files' write generations) makes the check run again after every repair.
        script: script(sh`name=${runtimeName}`, sh`revision=${revision}`, sh`: "$revision"`, ...runtimes.map((r) => r.verify)),
        changes: [],
        root: true,
    };
}
