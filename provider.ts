/**
 * The component provider behind `pulumi-resource-nvidia-gpu`: serves the committed schema.json and constructs
 * the components for Python, Go, YAML and .NET programs (TypeScript programs import the package directly).
 *
 * Why not Pulumi's source-based plugin (`PulumiPlugin.yaml` + `pulumi package add`): the engine starts such a
 * plugin through the Node.js language host's RunPlugin call, which the host built here (sdk/v3 v3.68.0, the
 * newest the Go module proxy serves) lacks. This executable speaks the provider protocol itself, through the
 * same `@pulumi/pulumi/provider` server that `componentProviderHost` uses, but reads the schema from the
 * committed file instead of analysing TypeScript sources at run time (no compiler, no sources in the plugin).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as provider from "@pulumi/pulumi/provider";
import * as lib from "./index";
import { commandsOf } from "./components/planOnHost";

const PACKAGE_ROOT = path.resolve(__dirname, "..");

interface SchemaResource {
    properties?: Record<string, unknown>;
}

interface Schema {
    name: string;
    version: string;
    resources: Record<string, SchemaResource>;
}

type ComponentClass = new (name: string, args: never, opts?: pulumi.ComponentResourceOptions) => pulumi.ComponentResource;

/** The components by class name: every ComponentResource the package exports, as the schema lists them. */
export function componentClasses(): Map<string, ComponentClass> {
    const classes = new Map<string, ComponentClass>();
    for (const value of Object.values(lib)) {
        if (typeof value === "function" && value.prototype instanceof pulumi.ComponentResource) classes.set(value.name, value as unknown as ComponentClass);
    }
    return classes;
}

export class NvidiaGpuProvider implements provider.Provider {
    readonly version: string;
    private readonly schemaText: string;
    private readonly packageSchema: Schema;
    private readonly classes = componentClasses();

    constructor(root = PACKAGE_ROOT) {
        this.schemaText = fs.readFileSync(path.join(root, "schema.json"), "utf8");
        this.packageSchema = JSON.parse(this.schemaText) as Schema;
        this.version = this.packageSchema.version;
    }

    async getSchema(): Promise<string> {
        return this.schemaText;
    }

    async construct(name: string, type: string, inputs: pulumi.Inputs, options: pulumi.ComponentResourceOptions): Promise<provider.ConstructResult> {
        const definition = this.packageSchema.resources[type];
        const component = this.classes.get(type.split(":")[2] ?? "");
        if (definition === undefined || component === undefined) throw new Error(`${this.packageSchema.name}: unknown resource type '${type}'`);
        const args = (await plainInputs(inputs)) as never;
        const instance = new component(name, args, options);
        // A caller in another language waits for a component through its URN, which it learns when this call
        // returns: so return only once the component's commands ran, as `dependsOn: [node]` promises (bug 7).
        if (!pulumi.runtime.isDryRun()) await settled(commandsOf(instance));
        const state: Record<string, unknown> = {};
        for (const key of Object.keys(definition.properties ?? {})) state[key] = (instance as unknown as Record<string, unknown>)[key];
        return { urn: instance.urn, state };
    }
}

/** What the SDK's Output keeps besides its value; internal to @pulumi/pulumi, but stable since 3.0. */
interface OutputInternals {
    isKnown: Promise<boolean>;
    isSecret: Promise<boolean>;
    promise(withUnknowns?: boolean): Promise<unknown>;
    resources(): Set<pulumi.Resource>;
}

/**
 * The inputs as a TypeScript caller writes them. The provider server hands over a top-level Output for an input
 * that is secret or depends on a resource, and an Output of `undefined` for an omitted one, where the
 * components expect plain objects (`args.connection.port ?? 22`, `args.driver === undefined`). Known objects
 * are opened field by field, each field keeping the secrecy and dependencies of the whole; omitted fields
 * become undefined; unknown values (at preview) stay Outputs.
 */
export async function plainInputs(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const output = value as unknown as OutputInternals & pulumi.Output<unknown>;
        if (!(await output.isKnown)) return value;
        const resolved = await output.promise();
        if (resolved === undefined || resolved === null) return undefined;
        const plain = !(await output.isSecret) && output.resources().size === 0;
        if (plain) return plainInputs(resolved);
        if (!isPlainObject(resolved)) return value;
        const fields: Record<string, unknown> = {};
        for (const [key, field] of Object.entries(resolved)) {
            if (field === undefined || field === null) continue;
            fields[key] = await plainInputs(output.apply((o) => (o as Record<string, unknown>)[key]));
        }
        return fields;
    }
    if (Array.isArray(value)) return Promise.all(value.map(plainInputs));
    if (isPlainObject(value)) {
        const fields: Record<string, unknown> = {};
        for (const [key, field] of Object.entries(value)) {
            const lifted = await plainInputs(field);
            if (lifted !== undefined && lifted !== null) fields[key] = lifted;
        }
        return fields;
    }
    return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Resolves once every command has been created (or failed, which fails the construct call). */
async function settled(commands: pulumi.Output<pulumi.Resource[]>): Promise<void> {
    const list = (await (commands as unknown as OutputInternals).promise()) as pulumi.Resource[] | undefined;
    await Promise.all((list ?? []).map((c) => (c.urn as unknown as OutputInternals).promise()));
    await Promise.all((list ?? []).map((c) => ((c as pulumi.CustomResource).id as unknown as OutputInternals).promise()));
}

if (require.main === module) {
    void provider.main(new NvidiaGpuProvider(), process.argv.slice(2));
}
