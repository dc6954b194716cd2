import type { NodeSpec } from "./nodePlan";
import { Runtime } from "../spec/choices";
import { DEFAULT_RUNTIME, DEFAULT_TOOLKIT_VERSION } from "../spec/defaults";

/**
 * A node's fields as a user writes them (GpuNodeArgs once resolved, an entry of the stack config's `nodes`): every
 * field optional where it has a default. NodeSpec is what the plan gets once `nodeSpecOf` applied them.
 */
export interface NodeFields extends Partial<Omit<NodeSpec, "runtime" | "toolkit">> {
    runtime?: string;
    toolkit?: Partial<NodeSpec["toolkit"]>;
}

/** Every field of a node, as GpuNodeArgs, the stack config and NodeSpec name them (the stack config adds connection fields). */
export const NODE_FIELDS = [
    "runtime",
    "driver",
    "toolkit",
    "rootlessUser",
    "rootlessHome",
    "runtimeName",
    "setAsDefault",
    "enableCdi",
    "fabricManager",
    "persistenced",
    "migLayout",
] as const satisfies ReadonlyArray<keyof NodeSpec>;

/**
 * The spec a node's plan is made from, its defaults applied once. An explicit `undefined` (a TypeScript caller's
 * `toolkit: { version: undefined }`, a Pulumi input that resolved to nothing) takes the default, as an absent field does.
 */
export function nodeSpecOf(fields: NodeFields): NodeSpec {
    return {
        runtime: (fields.runtime ?? DEFAULT_RUNTIME) as Runtime,
        driver: fields.driver,
        toolkit: { ...fields.toolkit, version: fields.toolkit?.version ?? DEFAULT_TOOLKIT_VERSION },
        rootlessUser: fields.rootlessUser,
        rootlessHome: fields.rootlessHome,
        runtimeName: fields.runtimeName,
        setAsDefault: fields.setAsDefault,
        enableCdi: fields.enableCdi,
        fabricManager: fields.fabricManager,
        persistenced: fields.persistenced,
        migLayout: fields.migLayout,
    };
}

/** A rule between fields that no one field's type can say: the field at fault, what is wrong, the fix. */
export interface FieldProblem {
    field: "rootlessUser" | "rootlessHome";
    problem: string;
    fix: string;
}

/** The cross-field rules of a node: rootless Docker needs its owner, and the rootless fields are only for it. */
export function nodeFieldProblems(fields: Pick<NodeFields, "runtime" | "rootlessUser" | "rootlessHome">): FieldProblem[] {
    const rootless = (fields.runtime ?? DEFAULT_RUNTIME) === "docker-rootless";
    if (rootless && fields.rootlessUser === undefined)
        return [{ field: "rootlessUser", problem: "is required for runtime docker-rootless", fix: "name the owner of the rootless Docker daemon" }];
    if (!rootless && (fields.rootlessUser !== undefined || fields.rootlessHome !== undefined))
        return [
            {
                field: fields.rootlessUser !== undefined ? "rootlessUser" : "rootlessHome",
                problem: "is only for runtime docker-rootless",
                fix: "set runtime: docker-rootless, or drop it",
            },
        ];
    return [];
}
