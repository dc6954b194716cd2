import { TomlTable, isTable } from "./goTomlEmitter";

/** The table at `keys`, or an empty one when any step is missing or not a table. */
export function tableAt(root: TomlTable, keys: string[]): TomlTable {
    let table = root;
    for (const key of keys) {
        const next = table[key];
        if (!isTable(next)) return {};
        table = next;
    }
    return table;
}

/** The table at `parent[key]`, created when missing. */
export function ensureTable(parent: TomlTable, key: string): TomlTable {
    if (!isTable(parent[key])) parent[key] = {};
    return parent[key] as TomlTable;
}

/** A deep copy that drops the TOML parser's bookkeeping symbols. */
export function copyTable(table: TomlTable): TomlTable {
    return deepCopy(table) as TomlTable;
}

function deepCopy(value: unknown): unknown {
    if (value instanceof Date) return new Date(value.getTime());
    if (Array.isArray(value)) return value.map(deepCopy);
    if (isTable(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepCopy(v)]));
    return value;
}
