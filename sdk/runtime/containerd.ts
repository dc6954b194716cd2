import { guardedFileStep, revisionOf } from "../steps/guardedFileStep";
import { removesCreatedDir } from "../steps/stateCleanup";
import { restartStep } from "./restartStep";
import { CONTAINERD_CONFIG, CONTAINERD_DROP_IN, renderContainerdConfig } from "./containerdConfig";
import { sh } from "../shell/shellScript";
import { RuntimeEngine, ServiceControl, renderOptions } from "./engine";
import { runtimePresent } from "./runtimePreflight";
import { containerdLoadedFindings } from "./containerdLoaded";

export const CONTAINERD_SERVICE: ServiceControl = {
    unit: "containerd",
    validate: sh`containerd config dump >/dev/null`,
    restart: sh`systemctl restart containerd`,
    ready: sh`ctr version >/dev/null 2>&1`,
    logs: sh`journalctl -u containerd -n 15 --no-pager 2>/dev/null || true`,
};

/** containerd: the drop-in in /etc/containerd/conf.d and one `imports` line in config.toml (comments kept). */
export const containerdEngine: RuntimeEngine = {
    runtime: "containerd",
    watchedFiles: () => [{ path: CONTAINERD_CONFIG }, { path: CONTAINERD_DROP_IN }],
    configure(snapshot, spec) {
        const live = snapshot.files;
        const result = renderContainerdConfig(live[CONTAINERD_CONFIG], {
            ...renderOptions(spec),
            effectiveConfig: snapshot.containerdDump,
            currentDropIn: live[CONTAINERD_DROP_IN],
        });
        const revision = revisionOf([result.topLevel, result.dropIn], snapshot);
        return {
            steps: [
                guardedFileStep("containerd-config", "containerd config.toml imports the drop-in folder", result.topLevel, snapshot, "containerd"),
                // A containerd without conf.d (Debian's package ships none): destroy removes the folder this step made.
                removesCreatedDir(
                    guardedFileStep(
                        "containerd-drop-in",
                        `containerd drop-in with the ${spec.runtimeName} runtime`,
                        result.dropIn,
                        snapshot,
                        "containerd",
                        undefined,
                        true,
                    ),
                    result.dropIn.path.replace(/\/[^/]*$/, ""),
                ),
                restartStep(CONTAINERD_SERVICE, [result.topLevel, result.dropIn], revision),
            ],
            files: [result.topLevel, result.dropIn],
            findings: containerdLoadedFindings({
                dump: snapshot.containerdDump,
                dropIn: live[CONTAINERD_DROP_IN],
                // The imports line is missing (a hand edit): the containerd-config step puts it back, and that repairs it.
                rootImportsDropIn: !result.topLevel.changed,
                dropInPath: CONTAINERD_DROP_IN,
                configPath: CONTAINERD_CONFIG,
                runtimeName: spec.runtimeName,
                setAsDefault: spec.setAsDefault,
            }),
        };
    },
    restarts: true,
    preflight: [runtimePresent("containerd", "containerd", (facts) => facts.containerd !== undefined)],
    needsCdiSpec: (enableCdi) => enableCdi,
    verifiesDefault: true,
    // What containerd loads, not what the drop-in says: a later drop-in can replace the CRI section (containerdLoaded.ts).
    verify: sh`loaded=$(containerd config dump) || { echo "error: containerd config dump failed" >&2; exit 8; }
printf '%s\\n' "$loaded" | grep -qF "runtimes.$name]" || { echo "error: containerd config dump has no $name runtime" >&2; exit 8; }
if [ -n "\${default:-}" ]; then
  current=$(printf '%s\\n' "$loaded" | sed -n 's/^ *default_runtime_name = //p' | tr -d \\"\\' | head -n 1)
  [ "$current" = "$default" ] || { echo "error: containerd's default runtime is \${current:-runc}, not $default (containerd config dump)" >&2; exit 8; }
fi
echo "containerd: $name runtime registered\${default:+, the default}"`,
    dockerHostUser: () => undefined,
    dockerHostFindings: () => [],
    toolkitSettings: () => [],
    dockerGpusFlag: false,
};
