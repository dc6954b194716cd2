import { RenderResult } from "./renderResult";

/**
 * One step of a node's plan: a POSIX sh script plus what it changes. Components turn each step
 * into a `remote.Command`, the CLI prints them, and the end-to-end tests run them over SSH: the
 * plan is the single source of truth for what happens on a host.
 */
export interface PlanStep {
    /** Stable, unique within the plan (`toolkit-packages`); used in resource names. */
    name: string;
    /** One line for previews and logs. */
    description: string;
    /** Run on create and on every change of the step's inputs. Idempotent: prints `unchanged` when there is nothing to do. */
    script: string;
    /** Run on delete to undo the step, restoring backed-up files byte for byte. */
    undoScript?: string;
    /** Files, packages and services the step changes, for previews. */
    changes: string[];
    /** Runs as root (through sudo for a non-root SSH user). */
    root: boolean;
    /** Runs as this user instead (rootless Docker's owner). */
    runAs?: string;
    /** The step leaves the host needing a reboot (a driver module that changed). */
    rebootRequired?: boolean;
    /** Files the step writes, with their exact new bytes, so previews can show them. */
    files?: RenderResult[];
    /**
     * The helpers file the script and undo source (sdk/steps/sharedHelpers.ts): the command that runs the script then
     * comes from that file too, so each command line is a few words.
     */
    sources?: string;
    /** Managed objects that differ from what the step's last run left, for previews (sdk/steps/managedObjectStep.ts). */
    drift?: string[];
}

/** A node's plan: the steps in the order they must run. */
export interface NodePlan {
    steps: PlanStep[];
}
