import { createHash } from "node:crypto";
import { OBJECTS_ROOT, OBSERVERS, OBSERVER_FUNCTIONS, ObjectState } from "../host/managedObjects";
import { HostSnapshot } from "../host/snapshot";
import { ShellFragment, script, sh } from "../shell/shellScript";
import { PlanStep } from "./planStep";

/*
 * THE INVARIANT FOR WHAT IS NOT A FILE (issue 22; files: guardedFileStep.ts).
 *
 * A package, a service or the CDI spec has no bytes to render, so its step's script is the same on a converged
 * and on a drifted host, and the engine would run nothing. Each such step therefore records, after every
 * successful run, what its objects look like (its observer, sdk/host/managedObjects.ts) and a generation:
 *   - converged: the objects look as recorded; the step asks for the recorded generation: same script, nothing runs;
 *   - drifted (they differ from the record): the step asks for the next generation, so its script differs, the
 *     engine runs it, it repairs the objects, and it records them and that generation: the next preview is clean.
 * A step whose run changes another step's objects (the packages' nvidia-cdi-refresh unit rewrites the CDI spec; a
 * MIG change adds CDI devices) makes that step run after it: its script carries a checksum of the upstream scripts.
 */

const MARK = "# managed object: ";

/** Steps whose run changes the objects of a later step: that step runs after them whenever they run. */
const UPSTREAM: Record<string, string[]> = {
    "cdi-spec": ["toolkit-packages", "mig-layout"],
    persistenced: ["driver-packages"],
    "fabric-manager-service": ["driver-packages", "fabric-manager-packages"],
};

/** Steps whose objects are services: a re-run puts back the active / enabled state the last run recorded. */
const SERVICE_STEPS = new Set(["docker-restart", "containerd-restart", "crio-restart", "persistenced", "fabric-manager-service", "cdi-spec"]);

/** One managed object that differs from what the last run left: `nvidia-container-toolkit: 1.19.0-1 → not installed (rc)`. */
export interface ObjectDrift {
    object: string;
    applied: string;
    observed: string;
}

/** The drift between a step's record and the host now; none when the step never ran here. */
export function objectDrift(state: ObjectState | undefined): ObjectDrift[] {
    if (state?.applied === undefined) return [];
    const parse = (text: string) =>
        new Map(
            text
                .split("\n")
                .filter((l) => l.includes(": "))
                .map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)] as const),
        );
    const applied = parse(state.applied);
    const observed = parse(state.observed);
    const drift: ObjectDrift[] = [];
    for (const object of new Set([...applied.keys(), ...observed.keys()])) {
        const a = applied.get(object) ?? "absent";
        const o = observed.get(object) ?? (object.startsWith("cdi device ") ? "not listed" : "absent");
        if (a !== o) drift.push({ object, applied: a, observed: o });
    }
    // A change that the line view cannot name (order, blank lines) is still drift.
    if (drift.length === 0 && state.applied !== state.observed) drift.push({ object: "state", applied: state.applied.trim(), observed: state.observed.trim() });
    return drift;
}

/** The text preview prints for one drift. */
export function describeDrift(d: ObjectDrift): string {
    return `${d.object}: ${d.applied} → ${d.observed}`;
}

/** The generation a managed step records: the recorded one, or the next when its objects drifted. */
export function objectGeneration(state: ObjectState | undefined): number {
    return (state?.generation ?? 0) + (objectDrift(state).length > 0 ? 1 : 0);
}

/**
 * Every managed step of a plan, with its generation, its record and its drift (for the preview). Steps without an
 * observer are returned as they are; applying it twice changes nothing. Without a snapshot (`gpu-node script`), the
 * steps still record what they leave, at generation 0.
 */
export function manageObjects(steps: PlanStep[], snapshot: HostSnapshot | undefined): PlanStep[] {
    const out: PlanStep[] = [];
    for (const step of steps) {
        if (!(step.name in OBSERVERS) || !step.root || step.runAs !== undefined || step.script.includes(MARK)) {
            out.push(step);
            continue;
        }
        const state = snapshot?.objects?.[step.name];
        const upstream = (UPSTREAM[step.name] ?? []).map((name) => out.find((s) => s.name === name)?.script).filter((s) => s !== undefined);
        out.push(managedObjectStep(step, state, upstream));
    }
    return out;
}

function managedObjectStep(step: PlanStep, state: ObjectState | undefined, upstream: string[]): PlanStep {
    const record = `${OBJECTS_ROOT}/${step.name}`;
    const generation = objectGeneration(state);
    const body = (text: string) => text.replace(/^#!\/bin\/sh\n/, "");
    const after = upstream.length === 0 ? "" : `# after: ${createHash("sha256").update(upstream.join("\0")).digest("hex")}\n`;
    const restore = SERVICE_STEPS.has(step.name) ? `${RESTORE_SERVICES}\nrestore_services ${record}\n` : "";
    const recordIt = text(
        OBSERVER_FUNCTIONS,
        sh`mkdir -p ${OBJECTS_ROOT}`,
        sh`{ ${OBSERVERS[step.name]}; } > ${record + ".tmp"} && mv -f ${record + ".tmp"} ${record}`,
        sh`printf '%s\\n' ${generation} > ${record + ".gen.tmp"} && mv -f ${record + ".gen.tmp"} ${record + ".gen"}`,
    );
    const script = `#!/bin/sh\nset -eu\n${MARK}${step.name}, generation ${generation}\n${after}${restore}${SUBSHELL}(\n${body(step.script)}\n)\n${recordIt}`;
    const forget = text(sh`rm -f ${record} ${record + ".gen"}`, sh`rmdir ${OBJECTS_ROOT} 2>/dev/null || true`);
    const undoScript =
        step.undoScript === undefined ? `#!/bin/sh\nset -eu\n${forget}` : `#!/bin/sh\nset -eu\n${SUBSHELL}(\n${body(step.undoScript)}\n)\n${forget}`;
    return { ...step, script, undoScript, drift: objectDrift(state).map(describeDrift) };
}

/**
 * The step's own script runs in a subshell, so that its `exit 0` ("unchanged") still ends in the record. Shellcheck
 * calls the helpers that script defines and does not use unreachable (SC2317), which they were not before.
 */
const SUBSHELL = "# shellcheck disable=SC2317\n";

/** Fragments as script text without the `#!/bin/sh` / `set -eu` header, to follow an existing script. */
function text(...fragments: ShellFragment[]): string {
    return script(...fragments).replace(/^#!\/bin\/sh\nset -eu\n/, "");
}

/**
 * Puts back the active and enabled state a service step recorded (`unit: active, enabled` lines) before the step
 * runs: a runtime stopped or disabled by hand comes back, one the host never enabled stays as it was.
 */
export const RESTORE_SERVICES = `restore_services() {
    [ -r "$1" ] && command -v systemctl >/dev/null 2>&1 || return 0
    while IFS= read -r line; do
        unit=\${line%%: *}; st=\${line#*: }; want_active=\${st%%, *}; want_enabled=\${st#*, }
        case "$unit" in *" "*|"") continue ;; esac
        if [ "$want_enabled" = enabled ] && [ "$(systemctl is-enabled "$unit" 2>/dev/null || true)" != enabled ]; then
            systemctl enable "$unit" >/dev/null 2>&1 && echo "enabled $unit again (disabled by hand)"
        fi
        if [ "$want_active" = active ] && ! systemctl is-active --quiet "$unit"; then
            systemctl reset-failed "$unit" >/dev/null 2>&1 || true
            systemctl start "$unit" && echo "started $unit again (stopped by hand)"
        fi
    done < "$1"
}`;
