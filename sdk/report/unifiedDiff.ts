import { createTwoFilesPatch } from "diff";

/**
 * A unified diff of one host file, as `diff -u` and `git diff` print it; empty when nothing changed.
 * `created` marks a file that does not exist yet (shown against /dev/null).
 */
export function unifiedDiff(path: string, before: string, after: string, created = false): string {
    if (before === after && !created) return "";
    const patch = createTwoFilesPatch(created ? "/dev/null" : `a${path}`, `b${path}`, before, after, undefined, undefined, { context: 3 });
    return patch.split("\n").slice(1).join("\n"); // drop the "====" banner line
}
