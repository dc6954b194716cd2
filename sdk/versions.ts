/**
 * Compares dotted numeric versions segment by segment as numbers, so `418.81.07` < `418.113`
 * and `1.19.0-1` < `1.20.0-1`. Non-numeric suffixes (`-1`, `+dfsg`) compare as text after the numbers.
 */
export function compareVersions(a: string, b: string): number {
    const pa = splitVersion(a);
    const pb = splitVersion(b);
    for (let i = 0; i < Math.max(pa.numbers.length, pb.numbers.length); i++) {
        const d = (pa.numbers[i] ?? 0) - (pb.numbers[i] ?? 0);
        if (d !== 0) return Math.sign(d);
    }
    return pa.rest === pb.rest ? 0 : pa.rest < pb.rest ? -1 : 1;
}

function splitVersion(v: string): { numbers: number[]; rest: string } {
    const match = /^(\d+(?:\.\d+)*)(.*)$/.exec(v.replace(/^\d+:/, "")); // drop a Debian epoch
    if (!match) return { numbers: [], rest: v };
    return { numbers: match[1].split(".").map(Number), rest: match[2] };
}

export function atLeast(version: string, minimum: string): boolean {
    return compareVersions(version, minimum) >= 0;
}
