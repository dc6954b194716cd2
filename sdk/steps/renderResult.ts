/** The outcome of rendering one host file. Components and the CLI print it and never re-derive it. */
export interface RenderResult {
    /** Absolute path of the file on the host. */
    path: string;
    /** The file as it is now, or `undefined` when it does not exist. */
    previous: string | undefined;
    /** The exact bytes that will be written. */
    text: string;
    /** Whether `text` differs from `previous` (a missing file always counts as changed). */
    changed: boolean;
    /** One line per semantic change, e.g. `runtimes.nvidia: added`. Empty when unchanged. */
    summary: string[];
}

export function renderResult(path: string, previous: string | undefined, text: string, summary: string[]): RenderResult {
    const changed = previous !== text;
    return { path, previous, text, changed, summary: changed ? summary : [] };
}
