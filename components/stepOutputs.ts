/* What the node's steps print, parsed: shared by GpuNode, NvidiaDriver and CdiSpec. */

/** `{"loaded":"…","library":"…","state":"ok|reboot-required"}` as printed by the driver-verify step. */
export function parseDriverState(stdout: string): { loaded: string; library: string; state: string } | undefined {
    const line = stdout.split("\n").find((l) => l.startsWith('{"loaded"'));
    return line ? (JSON.parse(line) as { loaded: string; library: string; state: string }) : undefined;
}

/** The `cdi-device NAME` lines printed by the cdi-spec step. */
export function parseCdiDevices(stdout: string): string[] {
    return stdout
        .split("\n")
        .filter((l) => l.startsWith("cdi-device "))
        .map((l) => l.slice("cdi-device ".length).trim());
}
