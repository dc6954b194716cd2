import * as pulumi from "@pulumi/pulumi";
import { HostFacts } from "../sdk/host/hostFacts";
import { Finding } from "../sdk/host/preflight";
import { HostSnapshot, WatchedFile } from "../sdk/host/snapshot";
import { SudoMode } from "../sdk/steps/invocation";
import { PlanStep } from "../sdk/steps/planStep";
import { manageObjects } from "../sdk/steps/managedObjectStep";
import { withStateCleanup } from "../sdk/steps/stateCleanup";
import { helpersPath, withSharedHelpers } from "../sdk/steps/sharedHelpers";
import { RenderResult } from "../sdk/steps/renderResult";
import { unifiedDiff } from "../sdk/report/unifiedDiff";
import { maskCredentials } from "../sdk/secrets/credentials";
import { NodeConnectionArgs, ResolvedConnection, resolveConnection } from "./connection";
import { HostReader, SshHostReader } from "./hostReader";
import { StepCommand, createStepCommands } from "./stepCommands";

/** Options every component of this library takes besides Pulumi's own. */
export interface GpuComponentOptions extends pulumi.ComponentResourceOptions {
    /** Reads hosts at preview. Default: a read-only ssh2 session. Tests inject a fake. */
    hostReader?: HostReader;
    /**
     * Compute the plan (outputs such as GpuNode.plan) without registering the step commands. For `gpu-node
     * plan`, which needs the plan only: a thousand nodes then plan in seconds. Never for `pulumi up`.
     */
    planOnly?: boolean;
}

let defaultHostReader: HostReader = new SshHostReader();

/**
 * Replaces the reader used by components that were given none: for tests of whole programs under
 * Pulumi's mocks, and for offline plans. Returns the previous reader.
 */
export function setDefaultHostReader(reader: HostReader): HostReader {
    const previous = defaultHostReader;
    defaultHostReader = reader;
    return previous;
}

/** What a component's sdk function returns for one host. */
export interface BuiltPlan {
    steps: PlanStep[];
    files: RenderResult[];
    findings?: Finding[];
    /** Per step name: shell text prepended to that step's script on its stdin, kept secret (secret env values). */
    secretStdin?: Record<string, pulumi.Input<string>>;
}

export interface HostPlan extends BuiltPlan {
    snapshot: HostSnapshot;
    commands: StepCommand[];
}

/**
 * The one path from a host to its commands: read the host (read-only), build the steps with `build`
 * (a pure sdk function), report each file's diff against the live file, and create the chained
 * commands. When the host is not known yet (created in the same program), nothing can be read at
 * preview: the preview says so, and the plan is computed at apply.
 */
export function planOnHost<Spec>(
    name: string,
    connection: NodeConnectionArgs,
    spec: pulumi.Output<Spec>,
    watched: (spec: Spec) => WatchedFile[],
    build: (snapshot: HostSnapshot, spec: Spec) => BuiltPlan,
    parent: pulumi.Resource,
    options: GpuComponentOptions | undefined,
    shareHelpers = false,
): pulumi.Output<HostPlan> {
    const reader = options?.hostReader ?? defaultHostReader;
    const resolved = resolveConnection(connection);
    reportUnknownHost(name, connection.host, parent);
    const planned = pulumi.all([resolved, spec]).apply(async ([conn, s]) => {
        const helpers: WatchedFile[] = shareHelpers ? [{ path: helpersPath(name), binary: true }] : [];
        const snapshot = await reader.snapshot(conn, [...watched(s as Spec), ...helpers]);
        const built = build(snapshot, s as Spec);
        // What the sdk found on the host, in the preview: an error has stopped the plan already (the sdk throws it).
        for (const f of built.findings ?? []) reportFinding(name, f, parent);
        // Every component's managed packages, services and CDI spec (idempotent for GpuNode's, already managed).
        // …and every undo ends by removing this library's state once it is empty, so destroy leaves no trace.
        const cleaned = withStateCleanup(manageObjects(built.steps, snapshot));
        // A fleet's state holds every script twice: the shell they all repeat goes to one file per component (issue 24).
        const steps = shareHelpers ? withSharedHelpers(cleaned, name, snapshot) : cleaned;
        const rendered = built.files;
        for (const file of rendered) {
            // Masked after diffing, so a changed password still shows as a changed line, without its value.
            const diff = maskCredentials(unifiedDiff(file.path, file.previous ?? "", file.text, file.previous === undefined));
            pulumi.log.info(
                diff === ""
                    ? `${name}: ${file.path} is up to date`
                    : `${name}: ${file.path} will change (${file.summary.map(maskCredentials).join("; ")}):\n${diff}`,
                parent,
            );
        }
        for (const step of steps) {
            if ((step.drift ?? []).length > 0) {
                pulumi.log.warn(`${name}: ${step.name} will repair drift: ${step.drift!.join("; ")}`, parent);
            }
        }
        // The first command waits for what the component was told to wait for: resources created inside
        // an apply are not found by the SDK's expansion of a component's dependsOn.
        const commands = options?.planOnly
            ? []
            : createStepCommands(
                  name,
                  steps,
                  connection,
                  sudoMode(conn, snapshot.facts),
                  conn.user,
                  parent,
                  dependsOnList(options?.dependsOn),
                  built.secretStdin,
              );
        return { ...built, steps, snapshot, commands };
    });
    componentCommands.set(
        parent,
        planned.apply((p) => p.commands.map((c) => c.command as pulumi.Resource)),
    );
    return planned;
}

/** A finding as the preview shows it, at its severity: "<component>: <what is wrong> — <what to do>". */
function reportFinding(name: string, f: Finding, parent: pulumi.Resource): void {
    const log = f.severity === "error" ? pulumi.log.error : f.severity === "warning" ? pulumi.log.warn : pulumi.log.info;
    void log(`${name}: ${f.message} — ${f.fix}`, parent);
}

/** Each component's step commands (not an output: a resource list has no schema type). */
const componentCommands = new WeakMap<pulumi.Resource, pulumi.Output<pulumi.Resource[]>>();

/**
 * A component's step commands, for `dependsOn`: they are created once the host is read, inside an apply, so
 * `dependsOn: [component]` alone would expand to no commands and a workload could start before the host is ready.
 */
export function commandsOf(component: pulumi.Resource): pulumi.Output<pulumi.Resource[]> {
    return componentCommands.get(component) ?? pulumi.output([]);
}

/** root needs no sudo; otherwise a given sudo password means sudo asks for it. */
export function sudoMode(conn: ResolvedConnection, facts: HostFacts): SudoMode {
    if (conn.user === "root" || facts.user.uid === 0) return "root";
    return conn.sudoPassword !== undefined ? "password" : "passwordless";
}

function reportUnknownHost(name: string, host: pulumi.Input<string>, parent: pulumi.Resource): void {
    if (!pulumi.runtime.isDryRun()) return;
    const known = (pulumi.output(host) as unknown as { isKnown: Promise<boolean> }).isKnown;
    void known.then((isKnown) => {
        if (!isKnown) {
            pulumi.log.info(`${name}: the host is not known until apply, so its files and scripts will be computed at apply`, parent);
        }
    });
}

/** A component's `dependsOn`, which may be one resource, as the list the step commands take. */
function dependsOnList(dependsOn: pulumi.ComponentResourceOptions["dependsOn"]): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
    if (dependsOn === undefined) return [];
    if (dependsOn instanceof pulumi.Resource) return [dependsOn];
    return dependsOn as pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
}
