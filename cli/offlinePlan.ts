import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { HostReader } from "../components/hostReader";
import { ResolvedConnection } from "../components/connection";
import { GpuConfigError } from "../sdk/errors";
import { parseHostFacts } from "../sdk/host/hostFacts";
import { HostSnapshot, WatchedFile } from "../sdk/host/snapshot";
import { PlanReport } from "../sdk/report/planReport";

/** Host facts recorded in the stack config, so a plan needs no SSH access. */
class RecordedHostReader implements HostReader {
    constructor(private readonly byHost: Map<string, HostSnapshot>) {}

    async snapshot(connection: ResolvedConnection, files: WatchedFile[]): Promise<HostSnapshot> {
        const recorded = this.byHost.get(connection.host);
        if (!recorded) throw new GpuConfigError(`node ${connection.host}`, "has no recorded facts", "add facts.probeFile to its stack config entry");
        const live: Record<string, string | undefined> = {};
        for (const f of files) live[f.path] = recorded.files[f.path];
        return { ...recorded, files: live };
    }
}

interface StackNode {
    name?: string;
    host: string;
    facts?: { probeFile?: string; files?: Record<string, string> };
}

/**
 * Runs the root program (program/fleet.ts) under Pulumi's own mocks in preview mode, with the stack's
 * config: nothing is written anywhere, and neither the Pulumi CLI nor a backend nor SSH is needed.
 * Hosts come from each node's recorded `facts`, or, with `reader`, from the live hosts (read-only).
 */
export async function planStack(root: string, stack: string, reader?: HostReader): Promise<PlanReport> {
    // Pulumi records a stack trace for every promise it creates; under ts-node's source maps that
    // dominated the plan's cost (170 ms a node). The plan reports errors by message, not by stack.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return await planStackUnchecked(root, stack, reader);
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
}

async function planStackUnchecked(root: string, stack: string, reader?: HostReader): Promise<PlanReport> {
    const project = (YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) throw new GpuConfigError("--stack", `no ${path.basename(stackFile)} in ${root}`, "create it (see Pulumi.example.yaml) or name another stack");
    const config = ((YAML.parse(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> }).config ?? {};
    const nodes = (config[`${project}:nodes`] ?? []) as StackNode[];
    if (!Array.isArray(nodes)) throw new GpuConfigError(`${project}:nodes`, "is not a list", "list the nodes, see Pulumi.example.yaml");

    const report: PlanReport = { stack, nodes: [], kubernetes: [] };
    const snapshots = new Map<string, HostSnapshot>();
    const plannable: StackNode[] = [];
    const fileCache = new Map<string, string>();
    for (const node of nodes) {
        if (reader) {
            plannable.push(node);
        } else if (node.facts?.probeFile) {
            snapshots.set(node.host, recordedSnapshot(path.dirname(stackFile), node, fileCache));
            plannable.push(node);
        } else {
            report.nodes.push({ name: node.name ?? node.host, host: node.host, status: "unknown", reason: "no facts in the stack config (facts.probeFile); the plan is computed at apply" });
        }
    }

    const kubernetes: PlanReport["kubernetes"] = [];
    // The components log each file's diff for `pulumi preview`; the report prints them itself.
    (pulumi.log as { info: (message: string) => Promise<void> }).info = async () => undefined;
    pulumi.runtime.setMocks({
        newResource(args) {
            if (args.type.startsWith("kubernetes:")) kubernetes.push({ type: args.type, name: args.name });
            return { id: `${args.name}-preview`, state: args.inputs };
        },
        call: (args) => args.inputs,
    }, project, stack, true);
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
        if (value !== null && typeof value === "object" && "secure" in (value as object)) continue; // secrets are not needed to plan
        values[key] = typeof value === "string" ? value : JSON.stringify(key === `${project}:nodes` ? plannable : value);
    }
    if (plannable.length === 0) values[`${project}:nodes`] = "[]";
    pulumi.runtime.setAllConfig(values);

    // Loaded after the mocks, so that no resource escapes them.
    const { createNodesFromConfig } = require("../program/fleet") as typeof import("../program/fleet");
    const created = plannable.length === 0 ? { nodes: [] } : createNodesFromConfig({ hostReader: reader ?? new RecordedHostReader(snapshots), planOnly: true });
    for (const { name, node } of created.nodes) {
        const entry = plannable.find((n) => (n.name ?? n.host) === name)!;
        const plan = await (node.plan as unknown as { promise(): Promise<PlanReport["nodes"][number]["plan"]> }).promise();
        report.nodes.push({ name, host: entry.host, status: "planned", plan });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    report.kubernetes = kubernetes;
    report.nodes.sort((a, b) => nodes.findIndex((n) => (n.name ?? n.host) === a.name) - nodes.findIndex((n) => (n.name ?? n.host) === b.name));
    return report;
}

function recordedSnapshot(dir: string, node: StackNode, cache = new Map<string, string>()): HostSnapshot {
    const read = (file: string) => {
        const full = path.resolve(dir, file);
        if (!cache.has(full)) cache.set(full, fs.readFileSync(full, "utf8"));
        return cache.get(full)!;
    };
    const facts = parseHostFacts(read(node.facts!.probeFile!), node.host);
    const files: Record<string, string | undefined> = {};
    for (const [hostPath, local] of Object.entries(node.facts?.files ?? {})) files[hostPath] = read(local);
    return { facts, files, priorWrites: {}, containerdDump: undefined };
}
