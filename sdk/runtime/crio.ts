import { guardedFileStep, revisionOf } from "../steps/guardedFileStep";
import { restartStep } from "./restartStep";
import { CRIO_CONFIG, CRIO_DROP_IN, renderCrioConfig } from "./crioConfig";
import { sh } from "../shell/shellScript";
import { RuntimeEngine, ServiceControl, renderOptions } from "./engine";
import { runtimePresent } from "./runtimePreflight";

export const CRIO_SERVICE: ServiceControl = {
    unit: "crio",
    validate: sh`crio config >/dev/null 2>&1 || crio --config-dir /etc/crio/crio.conf.d config >/dev/null`,
    restart: sh`systemctl restart crio`,
    ready: sh`systemctl is-active --quiet crio`,
    logs: sh`journalctl -u crio -n 15 --no-pager 2>/dev/null || true`,
};

/** CRI-O: the drop-in in /etc/crio/crio.conf.d (the folder CRI-O reads); crio.conf itself is only read. */
export const crioEngine: RuntimeEngine = {
    runtime: "crio",
    watchedFiles: () => [{ path: CRIO_CONFIG }, { path: CRIO_DROP_IN }],
    configure(snapshot, spec) {
        const result = renderCrioConfig(snapshot.files[CRIO_CONFIG], { ...renderOptions(spec), currentDropIn: snapshot.files[CRIO_DROP_IN] });
        return {
            steps: [
                guardedFileStep("crio-drop-in", `CRI-O drop-in with the ${spec.runtimeName} runtime`, result, snapshot, "crio", undefined, true),
                restartStep(CRIO_SERVICE, [result], revisionOf([result], snapshot)),
            ],
            files: [result],
        };
    },
    restarts: true,
    preflight: [runtimePresent("crio", "CRI-O", (facts) => facts.crioVersion !== undefined)],
    needsCdiSpec: (enableCdi) => enableCdi,
    verify: sh`{ crio status config 2>/dev/null || crio config 2>/dev/null; } | grep -qF "runtimes.$name]" || { echo "error: crio has no $name runtime" >&2; exit 8; }
echo "crio: $name runtime registered"`,
    dockerHostUser: () => undefined,
    dockerHostFindings: () => [],
    toolkitSettings: () => [],
    dockerGpusFlag: false,
};
