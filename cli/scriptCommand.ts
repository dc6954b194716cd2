import { GpuConfigError } from "../sdk/errors";
import { driverPlan } from "../sdk/plan/driverPlan";
import { PlanStep } from "../sdk/plan/planStep";
import { toolkitPlan } from "../sdk/plan/toolkitPlan";
import { booleanFlag, parseFlags, stringFlag } from "./flags";

const SCRIPT_FLAGS = {
    pm: "string",
    version: "string",
    experimental: "boolean",
    "repo-url": "string",
    "key-url": "string",
    "key-fingerprint": "string",
    distro: "string",
    branch: "string",
    open: "boolean",
    proprietary: "boolean",
    source: "string",
} as const;

/**
 * `gpu-node script toolkit|driver …`: prints a plan's scripts in order, for review or to run by
 * hand on an air-gapped host. The same scripts the components run.
 */
export function scriptCommand(args: string[], out: NodeJS.WritableStream): number {
    const flags = parseFlags(args, SCRIPT_FLAGS);
    const what = flags.positional[0];
    let steps: PlanStep[];
    if (what === "toolkit") {
        steps = toolkitPlan({
            version: required(stringFlag(flags, "version"), "--version", "the four packages' version, e.g. 1.20.0-1"),
            packageManager: required(stringFlag(flags, "pm"), "--pm", "apt, dnf or zypper") as "apt",
            experimental: booleanFlag(flags, "experimental"),
            repoUrl: stringFlag(flags, "repo-url"),
            keyUrl: stringFlag(flags, "key-url"),
            keyFingerprint: stringFlag(flags, "key-fingerprint"),
        });
    } else if (what === "driver") {
        const distro = required(stringFlag(flags, "distro"), "--distro", "ID:VERSION as in /etc/os-release, e.g. ubuntu:24.04");
        const [id, versionId] = distro.split(":");
        if (!id || !versionId) throw new GpuConfigError("--distro", `${JSON.stringify(distro)} is not ID:VERSION`, "write it like ubuntu:24.04");
        if (booleanFlag(flags, "open") && booleanFlag(flags, "proprietary")) throw new GpuConfigError("--open", "and --proprietary exclude each other", "give one of them");
        steps = driverPlan({
            distro: { id, versionId },
            branch: stringFlag(flags, "branch"),
            version: stringFlag(flags, "version"),
            kernelModules: booleanFlag(flags, "proprietary") ? "proprietary" : "open",
            source: stringFlag(flags, "source") as "distro" | undefined,
        });
    } else {
        throw new GpuConfigError("script", `unknown plan ${JSON.stringify(what ?? "")}`, "use `script toolkit` or `script driver`");
    }
    out.write(steps.map((s, i) => `# step ${i + 1}/${steps.length}: ${s.name} — ${s.description}${s.rebootRequired ? " (needs a reboot)" : ""}\n${s.script}`).join("\n"));
    return 0;
}

function required(value: string | undefined, flag: string, what: string): string {
    if (value === undefined) throw new GpuConfigError(flag, "is required", `give ${what}`);
    return value;
}
