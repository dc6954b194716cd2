/** Output lines longer than this many bytes are folded: far below pulumi-command 1.2.1's 64 KiB log line limit. */
export const FOLD_WIDTH = 4096;

/** Splits lines longer than FOLD_WIDTH bytes, flushing each line so the engine still logs progress as it happens. */
const FOLD = `LC_ALL=C awk '{ while (length($0) > ${FOLD_WIDTH}) { print substr($0, 1, ${FOLD_WIDTH}); $0 = substr($0, ${FOLD_WIDTH + 1}) } print; fflush() }'`;

/**
 * Shell text that runs `run` with its stdout and stderr each folded at FOLD_WIDTH bytes, and exits with `run`'s
 * status. pulumi-command 1.2.1 reads logged output with a bufio.Scanner: one line of 64 KiB or more (a minified
 * daemon.json, a CDI spec on one line) stops its reader, the pipe fills and the command hangs for good. Every step
 * logs both streams, so every step runs through this. POSIX sh: the status comes back on fd 5 through `$(…)`.
 */
export function foldedOutput(run: string): string {
    return `{ rc=$( { { { ${run} 3>&- 5>&-; echo $? >&5; } 2>&1 >&4 4>&- | ${FOLD} >&2; } 4>&1 | ${FOLD} >&3; } 5>&1 ); } 3>&1; exit "$rc"`;
}
