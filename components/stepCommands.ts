import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { SudoMode, invocationFor } from "../sdk/steps/invocation";
import { PlanStep } from "../sdk/steps/planStep";
import { maskCredentials } from "../sdk/secrets/credentials";
import { NodeConnectionArgs, commandConnection } from "./connection";

/** One plan step as created: its command, and the step it waits for. */
export interface StepCommand {
    step: PlanStep;
    command: remote.Command;
    /** Name of the step this one depends on; undefined for the first. */
    after: string | undefined;
}

/**
 * Turns plan steps into `remote.Command`s chained with `dependsOn`, in plan order. The scripts hold
 * no secrets: credentials stay in `connection`, a sudo password goes through `stdin`, and both are
 * marked secret so they reach neither logs nor state in clear text.
 */
export function createStepCommands(
    prefix: string,
    steps: PlanStep[],
    connection: NodeConnectionArgs,
    sudo: SudoMode,
    sshUser: string,
    parent: pulumi.Resource,
    dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> = [],
    secretStdin: Record<string, pulumi.Input<string>> = {},
): StepCommand[] {
    const created: StepCommand[] = [];
    let previous: remote.Command | undefined;
    for (const step of steps) {
        // The script goes on stdin (argv is limited to 128 KiB); the small undo script stays in argv,
        // because remote.Command gives `delete` the same stdin as `create`.
        const create = invocationFor(step, sshUser, sudo, "stdin");
        const undo = step.undoScript === undefined ? undefined : invocationFor({ ...step, script: step.undoScript }, sshUser, sudo, "argv");
        const needsPassword = (create.passwordOnStdin || (undo?.passwordOnStdin ?? false)) && connection.sudoPassword !== undefined;
        // Secret text (a container's secret env) goes ahead of the script, so the script itself stays free of it.
        const secretPrefix = secretStdin[step.name];
        const script = secretPrefix === undefined ? create.stdin : pulumi.interpolate`${secretPrefix}${create.stdin ?? ""}`;
        const command = new remote.Command(
            `${prefix}-${step.name}`,
            {
                connection: commandConnection(connection),
                create: create.command,
                delete: undo?.command,
                // Secret when it holds the sudo password, or a file with credentials (registry auth, proxy user:pass):
                // then it is encrypted in state and hidden in `pulumi preview --diff`. Otherwise readable.
                stdin: needsPassword
                    ? pulumi.secret(pulumi.interpolate`${connection.sudoPassword}\n${script ?? ""}`)
                    : holdsCredentials(step) || secretPrefix !== undefined
                      ? pulumi.secret(script ?? "")
                      : create.stdin,
                logging: "stdoutAndStderr",
                // Earlier stdout in the environment can itself exceed the kernel's limits (pulumi-command#285).
                addPreviousOutputInEnv: false,
            },
            {
                parent,
                dependsOn: previous ? [previous] : dependsOn,
                additionalSecretOutputs: ["connection"],
                deleteBeforeReplace: true,
            },
        );
        created.push({ step, command, after: created.at(-1)?.step.name });
        previous = command;
    }
    return created;
}

/** A step that writes a file holding credentials: its script carries them, so it must be a secret. */
function holdsCredentials(step: PlanStep): boolean {
    return (step.files ?? []).some((f) => maskCredentials(f.text) !== f.text);
}
