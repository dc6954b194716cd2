import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { HostReader } from "../components/hostReader";
import { ResolvedConnection } from "../components/connection";
import { watchedFiles } from "../sdk/node/watchedFiles";
import { GpuConfigError } from "../sdk/errors";
import { parseHostFacts } from "../sdk/host/hostFacts";
import { HostSnapshot, WatchedFile } from "../sdk/host/snapshot";
import { nodePlan } from "../sdk/node/nodePlan";
import { PlanReport } from "../sdk/report/planReport";
import { NodeConfig, configError, nodeSpecOf, parseKubernetes, parseNodes, renderProblem, unknownStackKeys } from "../program/config";

/** Snapshots read before the program runs, served to its GpuNodes by host. */
class SnapshotCache implements HostReader {
    constructor(private readonly byHost: Map<string, HostSnapshot>) {}

    async snapshot(connection: ResolvedConnection, files: WatchedFile[]): Promise<HostSnapshot> {
        const read = this.byHost.get(connection.host);
        if (!read) throw new GpuConfigError(`node ${connection.host}`, "was not read before the plan", "report this as a bug of gpu-node plan");
        const live: Record<string, string | undefined> = {};
        for (const f of files) live[f.path] = read.files[f.path];
        return { ...read, files: live };
    }
}

type Row = PlanReport["nodes"][number];

/**
 * Runs the root program (program/fleet.ts) under Pulumi's own mocks in preview mode, with the stack's
 * config: nothing is written anywhere, and neither the Pulumi CLI nor a backend nor SSH is needed.
 * Hosts come from each node's recorded `facts`, or, with `reader`, from the live hosts (read-only).
 * A node whose config is invalid, whose host cannot be read or whose preflight fails gets a row of its
 * own with the reason; the others are planned.
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
    if (!fs.existsSync(stackFile))
        throw new GpuConfigError("--stack", `no ${path.basename(stackFile)} in ${root}`, "create it (see Pulumi.example.yaml) or name another stack");
    const config = ((YAML.parse(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> }).config ?? {};
    const namespace = `${project}:`;
    // Problems that are no one node's stop the plan: a misspelt key, a bad `kubernetes` object.
    const stackProblems = unknownStackKeys(
        Object.keys(config)
            .filter((k) => k.startsWith(namespace))
            .map((k) => k.slice(namespace.length)),
    );
    stackProblems.push(...parseKubernetes(config[`${namespace}kubernetes`]).problems);
    if (stackProblems.length > 0) throw configError(stackProblems);
    const parsed = parseNodes(config[`${namespace}nodes`]);

    const report: PlanReport = { stack, nodes: [], kubernetes: [] };
    const unplanned = (name: string, host: unknown, reason: string, status: "unknown" | "error" = "error") =>
        report.nodes.push({ name, host: typeof host === "string" ? host : "", status, reason });
    const fileCache = new Map<string, string>();
    const candidates: Array<{ name: string; config: NodeConfig; index: number }> = [];
    for (const node of parsed) {
        if (!node.ok)
            unplanned(node.name, (config[`${namespace}nodes`] as Array<{ host?: unknown }>)[node.index]?.host, node.problems.map(renderProblem).join("; "));
        else if (!reader && !node.config.facts?.probeFile)
            unplanned(node.name, node.config.host, "no facts in the stack config (facts.probeFile); the plan is computed at apply", "unknown");
        else candidates.push({ name: node.name, config: node.config, index: node.index });
    }

    // Every host is read first, side by side: an unreachable host, a missing facts file or a failed preflight is
    // that node's row, and the program below only sees nodes that plan.
    const snapshots = new Map<string, HostSnapshot>();
    const plannable: NodeConfig[] = [];
    const read = await Promise.allSettled(
        candidates.map(async (c) => {
            const files = watchedFiles(nodeSpecOf(c.config));
            return reader ? reader.snapshot(liveConnection(c.config, c.index), files) : recordedSnapshot(path.dirname(stackFile), c.config, fileCache);
        }),
    );
    candidates.forEach((c, i) => {
        const r = read[i];
        if (r.status === "rejected") {
            unplanned(c.name, c.config.host, `${reader ? "unreachable" : "facts unreadable"}: ${messageOf(r.reason)}`);
            return;
        }
        try {
            nodePlan(r.value, nodeSpecOf(c.config));
        } catch (error) {
            unplanned(c.name, c.config.host, `cannot be planned: ${messageOf(error)}`);
            return;
        }
        snapshots.set(c.config.host, r.value);
        // The program never dials: it gets the snapshots above, and no key path to read.
        plannable.push({ ...c.config, privateKeyPath: undefined });
    });

    const kubernetes: PlanReport["kubernetes"] = [];
    // The components log each file's diff for `pulumi preview`; the report prints them itself.
    (pulumi.log as { info: (message: string) => Promise<void> }).info = async () => undefined;
    pulumi.runtime.setMocks(
        {
            newResource(args) {
                if (args.type.startsWith("kubernetes:")) kubernetes.push({ type: args.type, name: args.name });
                return { id: `${args.name}-preview`, state: args.inputs };
            },
            call: (args) => args.inputs,
        },
        project,
        stack,
        true,
    );
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
        if (value !== null && typeof value === "object" && "secure" in (value as object)) continue; // secrets are not needed to plan
        values[key] = typeof value === "string" ? value : JSON.stringify(key === `${namespace}nodes` ? plannable : value);
    }
    pulumi.runtime.setAllConfig(values);

    // Loaded after the mocks, so that no resource escapes them.
    const { createNodesFromConfig } = require("../program/fleet") as typeof import("../program/fleet");
    const created = plannable.length === 0 ? { nodes: [] } : createNodesFromConfig({ hostReader: new SnapshotCache(snapshots), planOnly: true });
    for (const { name, node } of created.nodes) {
        const entry = plannable.find((n) => (n.name ?? n.host) === name)!;
        const plan = await (node.plan as unknown as { promise(): Promise<Row["plan"]> }).promise();
        report.nodes.push({ name, host: entry.host, status: "planned", plan });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    report.kubernetes = kubernetes;
    const order = new Map(parsed.map((n) => [n.name, n.index]));
    report.nodes.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
    return report;
}

/**
 * The connection `--live` reads a host with: the key of `privateKeyPath` (read here, since it is
 * needed), else the SSH agent. Secret config (`privateKey`) is encrypted in the stack file and not used.
 */
function liveConnection(node: NodeConfig, index: number): ResolvedConnection {
    let privateKey: string | undefined;
    if (node.privateKeyPath !== undefined) {
        const full = node.privateKeyPath.replace(/^~(?=\/)/, os.homedir());
        try {
            privateKey = fs.readFileSync(full, "utf8");
        } catch (error) {
            throw new GpuConfigError(
                `nodes[${index}].privateKeyPath`,
                `cannot read ${full} (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`,
                "point it at the SSH private key, or drop it to use the SSH agent",
            );
        }
    }
    return { host: node.host, port: node.port ?? 22, user: node.user ?? "root", privateKey, hostKey: node.hostKey };
}

function messageOf(error: unknown): string {
    return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}

function recordedSnapshot(dir: string, node: NodeConfig, cache = new Map<string, string>()): HostSnapshot {
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
