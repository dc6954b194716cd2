import * as fs from "node:fs";
import * as path from "node:path";

/**
 * A user-given string of a component's args, found in schema.json: `runtimeName`, `driver.packages[]` (an element of
 * a list), `env{}` (a map's value), `env{key}` (a map's key: a string too), or an enum field (`runtime`): YAML,
 * Python and Go programs can pass any string there.
 */
export interface SchemaStringField {
    /** The component, e.g. `GpuNode`. */
    resource: string;
    /** The field in the args, e.g. `migLayout.devices[].gpus[]`. */
    path: string;
}

interface Property {
    type?: string;
    $ref?: string;
    items?: Property;
    additionalProperties?: Property;
}
interface Schema {
    resources: Record<string, { inputProperties: Record<string, Property> }>;
    types: Record<string, { properties?: Record<string, Property>; enum?: unknown[] }>;
}

const SCHEMA = path.join(__dirname, "..", "..", "schema.json");

/** Every string field of every component's args, in schema.json order. */
export function schemaStringFields(schema: Schema = JSON.parse(fs.readFileSync(SCHEMA, "utf8")) as Schema): SchemaStringField[] {
    const out: SchemaStringField[] = [];
    const typeOf = (ref: string) => schema.types[ref.replace("#/types/", "")];
    const walk = (resource: string, prefix: string, prop: Property, seen: string[]) => {
        if (prop.type === "string") out.push({ resource, path: prefix });
        else if (prop.$ref !== undefined) {
            const t = typeOf(prop.$ref);
            if (t?.enum !== undefined) out.push({ resource, path: prefix });
            else if (t?.properties !== undefined && !seen.includes(prop.$ref)) {
                for (const [k, v] of Object.entries(t.properties)) walk(resource, `${prefix}.${k}`, v, [...seen, prop.$ref]);
            }
        } else if (prop.type === "array" && prop.items !== undefined) walk(resource, `${prefix}[]`, prop.items, seen);
        else if (prop.type === "object" && prop.additionalProperties !== undefined) {
            out.push({ resource, path: `${prefix}{key}` });
            walk(resource, `${prefix}{}`, prop.additionalProperties, seen);
        }
    };
    for (const [token, r] of Object.entries(schema.resources)) {
        const resource = token.split(":").pop()!;
        for (const [k, v] of Object.entries(r.inputProperties)) walk(resource, k, v, []);
    }
    return out;
}

/** The name a refusal must give for this field: its last word (`gpus` for `migLayout.devices[].gpus[]`). */
export function leafName(field: string): string {
    return field
        .replace(/\{key\}$|\{\}$|\[\]/g, "")
        .split(".")
        .pop()!;
}
