import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { SudoMode, invocationFor } from "../sdk/plan/invocation";
import { PlanStep } from "../sdk/plan/planStep";
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
    dependsOn: pulumi.Input<pulumi.Resource>[] = [],
): StepCommand[] {
    const created: StepCommand[] = [];
    let previous: remote.Command | undefined;
    for (const step of steps) {
        const create = invocationFor(step, sshUser, sudo);
        const undo = step.undoScript === undefined ? undefined : invocationFor({ ...step, script: step.undoScript }, sshUser, sudo);
        const needsPassword = create.passwordOnStdin || (undo?.passwordOnStdin ?? false);
        const command = new remote.Command(`${prefix}-${step.name}`, {
            connection: commandConnection(connection),
            create: create.command,
            delete: undo?.command,
            stdin: needsPassword && connection.sudoPassword !== undefined ? pulumi.secret(pulumi.interpolate`${connection.sudoPassword}\n`) : undefined,
            logging: "stdoutAndStderr",
        }, {
            parent,
            dependsOn: previous ? [previous] : dependsOn,
            additionalSecretOutputs: ["connection", "stdin"],
            deleteBeforeReplace: true,
        });
        created.push({ step, command, after: created.at(-1)?.step.name });
        previous = command;
    }
    return created;
}
