import { z } from "zod";
import { GpuConfigError } from "../sdk/errors";
import { SharingStrategy } from "../sdk/kubernetes/manifests";
import { NodeSpec } from "../sdk/node/nodePlan";
import { DRIVER_SOURCES, FABRIC_MANAGER_MODES, KERNEL_MODULE_TYPES, RUNTIMES, RuntimeMode } from "../sdk/spec/choices";
import { nodeFieldProblems, nodeSpecOf as specOf } from "../sdk/node/nodeSpec";
import { PatternName, validate } from "../sdk/validate";
import { KubernetesConfig, NodeConfig } from "./configTypes";

export type { KubernetesConfig, NodeConfig } from "./configTypes";

/*
 * The stack config's schema, in zod 4. A schema library rather than hand checks: hand checks only catch
 * what someone thought to check, and `runtme: containerd`, `enableCDI: true` or `toolkit: {verison: …}`
 * were silently ignored, planning docker 1.20.0-1 instead (issue 13). Strict objects refuse every key
 * the schema does not name, and the same schema gives the types the program uses.
 */

/** A string checked by one of sdk/validate.ts's patterns, so the config refuses what the plan would refuse. */
function patterned(name: PatternName) {
    return z.string().superRefine((value, ctx) => {
        try {
            validate(value, name, "");
        } catch (error) {
            ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not valid; ${(error as GpuConfigError).fix}`, input: value });
        }
    });
}

/** YAML reads `branch: 580` as a number; a whole number is taken as the branch it spells. */
const branch = z.preprocess((v) => (typeof v === "number" && Number.isInteger(v) ? String(v) : v), patterned("driverBranch"));

const DriverConfigSchema = z
    .strictObject({
        branch: branch.optional(),
        version: patterned("driverVersion").optional(),
        kernelModules: z.enum(KERNEL_MODULE_TYPES).optional(),
        source: z.enum(DRIVER_SOURCES).optional(),
        server: z.boolean().optional(),
        cudaRepoUrl: patterned("url").optional(),
        packages: z.array(patterned("name")).optional(),
        reboot: z.boolean().optional(),
    })
    .superRefine((d, ctx) => {
        if ((d.branch === undefined) === (d.version === undefined)) {
            ctx.addIssue({
                code: "custom",
                message: 'needs exactly one of branch or version; set driver.branch (e.g. "580") or driver.version (e.g. 580.95.05)',
                input: d,
            });
        }
    });

const ToolkitConfigSchema = z.strictObject({
    version: patterned("packageVersion").optional(),
    experimental: z.boolean().optional(),
    repoUrl: patterned("url").optional(),
    keyUrl: patterned("url").optional(),
    keyFingerprint: patterned("fingerprint").optional(),
    mode: z.enum(RuntimeMode).optional(),
});

/** A node's MIG layout (GpuNode `migLayout`): its values are checked against the GPUs when the node is planned. */
const MigLayoutConfigSchema = z.strictObject({
    devices: z.array(
        z.strictObject({
            gpus: z.array(z.string().min(1)).optional(),
            enabled: z.boolean().optional(),
            profiles: z.record(z.string(), z.number().int().min(0)).optional(),
        }),
    ),
    stopServices: z.array(patterned("name")).optional(),
});

/** One entry of the stack config's `nodes` list (see Pulumi.example.yaml). */
export const NodeConfigSchema = z
    .strictObject({
        /** Resource name of the node; defaults to `host`. */
        name: z.string().min(1).optional(),
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).optional(),
        user: z.string().min(1).optional(),
        /** Path of a private key file on the machine that runs Pulumi; read only when the host is dialled. */
        privateKeyPath: z.string().min(1).optional(),
        /** The host's public key (`ssh-ed25519 AAAA…`), pinned. */
        hostKey: z
            .string()
            .regex(/^[a-z0-9@.-]+ [A-Za-z0-9+/=]+$/, "use the key as ssh-keyscan prints it, without the host name: ssh-ed25519 AAAA…")
            .optional(),
        runtime: z.enum(RUNTIMES).optional(),
        driver: DriverConfigSchema.optional(),
        toolkit: ToolkitConfigSchema.optional(),
        rootlessUser: patterned("name").optional(),
        rootlessHome: patterned("absolutePath").optional(),
        runtimeName: patterned("name").optional(),
        setAsDefault: z.boolean().optional(),
        enableCdi: z.boolean().optional(),
        fabricManager: z.enum(FABRIC_MANAGER_MODES).optional(),
        persistenced: z.boolean().optional(),
        migLayout: MigLayoutConfigSchema.optional(),
        /** Only for `gpu-node plan`: recorded host facts, so a plan can be made without SSH. Ignored by `pulumi up`. */
        facts: z.strictObject({ probeFile: z.string().min(1).optional(), files: z.record(z.string(), z.string()).optional() }).optional(),
    })
    .superRefine((n, ctx) => {
        // The node's cross-field rules, as GpuNode checks them (sdk/node/nodeSpec.ts).
        for (const p of nodeFieldProblems(n)) ctx.addIssue({ code: "custom", path: [p.field], message: `${p.problem}; ${p.fix}`, input: undefined });
    });

const replicas = z.number().int().min(2);
/** Only the fields each strategy uses: the values end up in the device plugin's config.yaml. */
const SharingSchema = z.discriminatedUnion("strategy", [
    // `replicas` may stay when sharing is switched off; it is ignored.
    z.strictObject({ strategy: z.literal(SharingStrategy.None), replicas: z.number().optional() }),
    z.strictObject({ strategy: z.literal(SharingStrategy.TimeSlicing), replicas, failRequestsGreaterThanOne: z.boolean().optional() }),
    z.strictObject({ strategy: z.literal(SharingStrategy.Mps), replicas }),
]);

/** The stack config's optional `kubernetes` object. */
export const KubernetesConfigSchema = z.strictObject({
    /** Kubernetes node names to label as provisioned GPU nodes. */
    labelNodes: z
        .array(z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "use a Kubernetes node name (lower-case letters, digits, '-' and '.')"))
        .optional(),
    sharing: SharingSchema.optional(),
    validate: z.boolean().optional(),
});

// The public types are written out in configTypes.ts (zod's types would reach every consumer's tsc); the schema must
// give exactly them, or this fails to compile.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaGivesNodeConfig: Same<z.infer<typeof NodeConfigSchema>, NodeConfig> = true;
const schemaGivesKubernetesConfig: Same<z.infer<typeof KubernetesConfigSchema>, KubernetesConfig> = true;
void [schemaGivesNodeConfig, schemaGivesKubernetesConfig];

/** The keys of the project's namespace in the stack config. */
export const STACK_KEYS = ["nodes", "kubernetes", "privateKey", "sudoPassword"] as const;

/** One node of the stack config, checked: its config, or every problem found in it. */
export type ParsedNode = { index: number; name: string; ok: true; config: NodeConfig } | { index: number; name: string; ok: false; problems: ConfigProblem[] };

/**
 * Checks each entry of `nodes` on its own, so one bad node is named and the others can still be planned.
 * Throws only when `nodes` itself is not a non-empty list.
 */
export function parseNodes(raw: unknown): ParsedNode[] {
    if (!Array.isArray(raw) || raw.length === 0) {
        throw new GpuConfigError(
            "nodes",
            raw === undefined ? "is missing" : Array.isArray(raw) ? "is empty" : "is not a list",
            "list at least one node: see Pulumi.example.yaml",
        );
    }
    const seen = new Set<string>();
    return raw.map((entry, index): ParsedNode => {
        const loose = (entry ?? {}) as { name?: unknown; host?: unknown };
        const name =
            typeof loose.name === "string" && loose.name !== ""
                ? loose.name
                : typeof loose.host === "string" && loose.host !== ""
                  ? loose.host
                  : `nodes[${index}]`;
        const result = NodeConfigSchema.safeParse(entry, { reportInput: true });
        const problems = result.success ? [] : describeIssues(result.error.issues, NodeConfigSchema, ["nodes", index]);
        if (seen.has(name)) problems.push({ field: `nodes[${index}].name`, problem: `"${name}" is used twice`, fix: "give each node a unique name" });
        seen.add(name);
        return problems.length === 0 && result.success ? { index, name, ok: true, config: result.data } : { index, name, ok: false, problems };
    });
}

/** The `kubernetes` object, checked: its config (undefined when absent), or its problems. */
export function parseKubernetes(raw: unknown): { config?: KubernetesConfig; problems: ConfigProblem[] } {
    if (raw === undefined) return { problems: [] };
    const result = KubernetesConfigSchema.safeParse(raw, { reportInput: true });
    return result.success ? { config: result.data, problems: [] } : { problems: describeIssues(result.error.issues, KubernetesConfigSchema, ["kubernetes"]) };
}

/** Keys in the project's namespace that the program does not read (`nvidia-gpu-fleet:node` for `nodes`). */
export function unknownStackKeys(keys: string[]): ConfigProblem[] {
    return keys
        .filter((k) => !(STACK_KEYS as readonly string[]).includes(k))
        .map((k) => ({ field: k, problem: "is not a key of this program", fix: hint(k, STACK_KEYS) }));
}

/** All problems as one error, every one named; a single problem reads as any GpuConfigError does. */
export function configError(problems: ConfigProblem[]): GpuConfigError {
    const [first, ...rest] = problems;
    const error = new GpuConfigError(`config ${first.field}`, first.problem, first.fix);
    if (rest.length > 0) error.message = problems.map(renderProblem).join("; ");
    return error;
}

/** What GpuNode is asked to do for this node, as nodePlan sees it: the spec module's defaults, as GpuNode applies them. */
export function nodeSpecOf(config: NodeConfig): NodeSpec {
    return specOf(config);
}

type Issue = z.core.$ZodIssue;

/** One problem in the stack config: the field at fault, what is wrong, and the fix. */
export interface ConfigProblem {
    field: string;
    problem: string;
    fix: string;
}

/** `config nodes[0].runtime: "podman" is not supported — use one of: …`, as GpuConfigError words it. */
export function renderProblem(p: ConfigProblem): string {
    return `config ${p.field}: ${p.problem} — ${p.fix}`;
}

/** zod's issues as problems that name the field (`nodes[0].runtme`) and the fix. */
export function describeIssues(issues: readonly Issue[], schema: z.ZodType, prefix: Array<string | number>): ConfigProblem[] {
    const out: ConfigProblem[] = [];
    const add = (path: Array<string | number>, problem: string, fix: string) => out.push({ field: fieldPath(path), problem, fix });
    for (const issue of issues) {
        const path = [...prefix, ...issue.path] as Array<string | number>;
        switch (issue.code) {
            case "unrecognized_keys": {
                const known = fieldsAt(schema, issue.path as Array<string | number>);
                for (const key of issue.keys) add([...path, key], "is not a field", hint(key, known));
                break;
            }
            case "invalid_type":
                if (issue.input === undefined) add(path, "is missing", `set ${fieldPath(path)}`);
                else add(path, `is ${describeValue(issue.input)}`, `use ${issue.expected === "int" ? "a whole number" : `a ${issue.expected}`}`);
                break;
            case "invalid_value":
                add(path, `${describeValue(issue.input)} is not supported`, `use one of: ${issue.values.map(String).join(", ")}`);
                break;
            case "invalid_union": {
                const discriminator = (issue as { discriminator?: string }).discriminator;
                const options = discriminator === undefined ? [] : optionsOf(schema, issue.path.slice(0, -1) as Array<string | number>, discriminator);
                const value =
                    discriminator !== undefined && issue.input !== null && typeof issue.input === "object"
                        ? (issue.input as Record<string, unknown>)[discriminator]
                        : issue.input;
                add(path, `${describeValue(value)} is not supported`, options.length ? `use one of: ${options.join(", ")}` : issue.message);
                break;
            }
            case "too_small":
            case "too_big":
                if (issue.origin === "number")
                    add(
                        path,
                        `${describeValue(issue.input)} is out of range`,
                        `use a whole number ${issue.code === "too_small" ? `of ${issue.minimum} or more` : `of ${issue.maximum} or less`}`,
                    );
                else if (issue.origin === "string" && issue.code === "too_small") add(path, "is empty", `set ${fieldPath(path)}`);
                else add(path, issue.message, "see Pulumi.example.yaml");
                break;
            case "custom": {
                // Custom issues carry "what is wrong; the fix".
                const [problem, ...fix] = issue.message.split("; ");
                add(path, problem, fix.join("; ") || "see Pulumi.example.yaml");
                break;
            }
            default:
                add(path, issue.message, "see Pulumi.example.yaml");
        }
    }
    return out;
}

/** `["nodes", 0, "driver", "branch"]` → `nodes[0].driver.branch`. */
function fieldPath(path: Array<string | number | symbol>): string {
    return path.reduce<string>((s, p) => (typeof p === "number" ? `${s}[${p}]` : s === "" ? String(p) : `${s}.${String(p)}`), "");
}

function describeValue(v: unknown): string {
    if (v === undefined) return "missing";
    if (typeof v === "string") return JSON.stringify(v);
    if (v === null) return "null";
    if (Array.isArray(v)) return "a list";
    if (typeof v === "object") return "an object";
    return `${typeof v} ${String(v)}`;
}

/** `did you mean runtime?` for the nearest known key, case-insensitively; else the keys there are. */
function hint(key: string, known: readonly string[]): string {
    const scored = known.map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d);
    const best = scored[0];
    if (best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 3))) return `did you mean ${best.k}?`;
    return known.length ? `the fields here are: ${known.join(", ")}` : "remove it";
}

function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const next = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = row[j];
            row[j] = next;
        }
    }
    return row[b.length];
}

type Def = {
    type: string;
    shape?: Record<string, z.ZodType>;
    innerType?: z.ZodType;
    element?: z.ZodType;
    in?: z.ZodType;
    out?: z.ZodType;
    options?: z.ZodType[];
};
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas found at `path` (through optional, pipe, array and union wrappers). */
function objectsAt(schema: z.ZodType, path: Array<string | number>): Array<Record<string, z.ZodType>> {
    const def = defOf(schema);
    switch (def.type) {
        case "optional":
        case "nullable":
        case "default":
            return objectsAt(def.innerType!, path);
        case "pipe":
            return [...objectsAt(def.in!, path), ...objectsAt(def.out!, path)];
        case "union":
            return def.options!.flatMap((o) => objectsAt(o, path));
        case "array":
            return path.length === 0 ? [] : objectsAt(def.element!, path.slice(1));
        case "object":
            if (path.length === 0) return [def.shape!];
            return def.shape![String(path[0])] ? objectsAt(def.shape![String(path[0])], path.slice(1)) : [];
        default:
            return [];
    }
}

function fieldsAt(schema: z.ZodType, path: Array<string | number>): string[] {
    return [...new Set(objectsAt(schema, path).flatMap((shape) => Object.keys(shape)))];
}

function optionsOf(schema: z.ZodType, path: Array<string | number>, discriminator: string): string[] {
    return objectsAt(schema, path).flatMap((shape) => {
        const d = shape[discriminator] ? (defOf(shape[discriminator]) as unknown as { values?: unknown[] }) : undefined;
        return (d?.values ?? []).map(String);
    });
}
