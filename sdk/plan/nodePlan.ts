import { GpuConfigError } from "../errors";
import { DataCentreIntent, dataCentrePreflight } from "../host/dataCentrePreflight";
import { Finding, preflight } from "../host/preflight";
import { cdiSpecFormatFindings } from "../host/cdiPreflight";
import { HostSnapshot } from "../host/snapshot";
import { CONTAINERD_CONFIG, CONTAINERD_DROP_IN, renderContainerdConfig } from "../render/containerdConfig";
import { CRIO_CONFIG, CRIO_DROP_IN, renderCrioConfig } from "../render/crioConfig";
import { DOCKER_DAEMON_JSON, renderDockerConfig } from "../render/dockerDaemonJson";
import { RenderResult } from "../render/renderResult";
import { TOOLKIT_CONFIG, ToolkitSetting, setsNoCgroups } from "../render/toolkitConfig";
import { rootlessDaemonJsonPath, validate, validateChoice } from "../validate";
import { dataCentrePlan } from "./dataCentrePlan";
import { DriverSpec, driverPlan } from "./driverPlan";
import { driverPinDecision } from "./driverPin";
import { guardedFileStep, revisionOf } from "./guardedFileStep";
import { injectionMode, runtimeModeFindings, validateRuntimeMode } from "./injectionMode";
import { NodePlan, PlanStep } from "./planStep";
import { cdiSpecStep, restartStep, rootlessRestartStep, verifyRuntimesStep } from "./runtimeSteps";
import { MigLayoutSpec } from "./migLayout";
import { manageObjects } from "./managedObjectStep";
import { ToolkitSpec, toolkitConfigStep, toolkitPlan } from "./toolkitPlan";

/** The container runtimes a node can be set up for. `cdi` only writes the CDI spec (Podman, CDI-native runtimes). */
export const RUNTIMES = ["docker", "docker-rootless", "containerd", "crio", "cdi"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Everything a GPU node should end up with. */
export interface NodeSpec {
    runtime: Runtime;
    /** Owner of the rootless Docker daemon; required for `docker-rootless`. */
    rootlessUser?: string;
    /** Home of `rootlessUser`. Default `/home/<user>`. */
    rootlessHome?: string;
    runtimeName?: string;
    setAsDefault?: boolean;
    enableCdi?: boolean;
    toolkit: Omit<ToolkitSpec, "packageManager">;
    /** The driver to install; `undefined` keeps whatever driver the host has. */
    driver?: Omit<DriverSpec, "distro" | "arch">;
    /** Fabric Manager on NVSwitch hosts: `auto` (default, decided from the NVSwitch devices and the fabric state), `install` or `skip`. */
    fabricManager?: DataCentreIntent["fabricManager"];
    /** Enable nvidia-persistenced on data-centre GPUs. Default true. */
    persistenced?: boolean;
    /** The MIG layout to apply; `undefined` leaves MIG as it is. */
    migLayout?: MigLayoutSpec;
}

export interface PlannedNode {
    plan: NodePlan;
    findings: Finding[];
    /** The files the plan writes, by path, with their diffs' before and after. */
    files: RenderResult[];
}

/**
 * The node's ordered plan from a snapshot of the host (facts and live files): driver → toolkit → toolkit config →
 * runtime configs → restarts → CDI spec → verify. Pure: the same inputs give the same plan.
 * Throws a GpuConfigError listing every preflight error.
 */
export function nodePlan(snapshot: HostSnapshot, spec: NodeSpec): PlannedNode {
    const { facts } = snapshot;
    const runtime = validateChoice(spec.runtime, RUNTIMES, "runtime");
    const runtimeName = validate(spec.runtimeName ?? "nvidia", "name", "runtimeName");
    const mode = validateRuntimeMode(spec.toolkit.mode, spec.toolkit.version);
    const installDriver = spec.driver !== undefined && !facts.wsl2;
    // A driver no package owns: a pin it satisfies installs nothing, one it does not is refused (issue 23).
    const pin = installDriver ? driverPinDecision(facts, spec.driver!) : undefined;
    const findings = preflight(facts, {
        installDriver: spec.driver !== undefined && pin?.kind !== "keep",
        signedDriverModules: facts.os.id === "ubuntu" && (spec.driver?.source ?? "distro") === "distro",
        runtimes: [runtime.startsWith("docker") ? "docker" : runtime],
        driver: spec.driver,
        // A restart (systemctl) is needed only when the runtime's configuration changes.
        restarts: runtime !== "cdi" && runtimePlan(snapshot, { ...spec, runtime, runtimeName }).files.some((f) => f.changed) ? [runtime] : [],
    });
    const dataCentreIntent = { fabricManager: spec.fabricManager, persistenced: spec.persistenced, driver: installDriver ? spec.driver : undefined };
    findings.push(...dataCentrePreflight(facts, dataCentreIntent));
    if (pin?.kind === "keep") findings.push(pin.note);
    if (pin?.kind === "conflict") findings.push(pin.finding);
    // Toolkit ≥ 1.19.1 writes CDI spec v0.7.0, which older runtimes cannot read (issue 16).
    findings.push(
        ...cdiSpecFormatFindings(facts, spec.toolkit.version, spec.runtime === "cdi" || spec.runtime === "docker-rootless" || (spec.enableCdi ?? false)),
    );
    findings.push(...runtimeModeFindings(mode, runtime, spec.setAsDefault ?? false));
    const effectiveMode = injectionMode(spec.toolkit.version, mode, snapshot.files[TOOLKIT_CONFIG]).mode;
    const toolkitSettings = runtimeToolkitSettings(runtime, effectiveMode);
    findings.push(...rootlessLegacyFindings(toolkitSettings), ...leftoverNoCgroupsFindings(toolkitSettings, snapshot.files[TOOLKIT_CONFIG]));
    const errors = findings.filter((f) => f.severity === "error");
    if (errors.length > 0) {
        throw new GpuConfigError("preflight", errors.map((e) => `${e.message} (${e.id})`).join("; "), errors.map((e) => e.fix).join("; "));
    }
    if (facts.packageManager === undefined) throw new GpuConfigError("packageManager", "unknown", "use apt, dnf or zypper");
    const unexpected = Object.entries(facts.toolkitPackages).filter(([, version]) => version !== spec.toolkit.version);
    if (unexpected.length > 0) {
        findings.push({
            id: "toolkit-unexpected-version",
            severity: "warning",
            message: `toolkit packages at versions the plan does not pin: ${unexpected.map(([p, v]) => `${p} ${v}`).join(", ")}`,
            fix: `the plan installs all four at ${spec.toolkit.version}`,
        });
    }

    const steps: PlanStep[] = [];
    const driverSteps = installDriver
        ? driverPlan({ ...spec.driver!, distro: facts.os, arch: facts.arch }, snapshot, pin?.kind === "keep" ? pin.summary : undefined)
        : [];
    steps.push(...driverSteps);
    // Fabric Manager, nvidia-persistenced and MIG after the driver, before the toolkit and runtime steps (issue 17).
    const dataCentre = dataCentrePlan(snapshot, { ...dataCentreIntent, migLayout: spec.migLayout });
    steps.push(...dataCentre.steps);
    findings.push(...dataCentre.notes);
    // The toolkit config has one step, the toolkit's: its mode and the runtime's settings together.
    const toolkitSteps = toolkitPlan({ ...spec.toolkit, packageManager: facts.packageManager }, snapshot, toolkitSettings);
    steps.push(...toolkitSteps);

    const runtimePart = runtimePlan(snapshot, { ...spec, runtime, runtimeName }, false);
    steps.push(...runtimePart.steps);
    // Packages, services, the CDI spec and MIG: read at preview, their drift changes the repairing steps' inputs (issue 22).
    const managed = manageObjects(steps, snapshot);
    return { plan: { steps: managed }, findings, files: [...driverSteps, ...toolkitSteps].flatMap((s) => s.files ?? []).concat(runtimePart.files) };
}

/** The runtime part of a spec: what DockerRuntime, ContainerdRuntime, CrioRuntime and CdiSpec configure. */
export type RuntimeSpec = Pick<NodeSpec, "runtime" | "rootlessUser" | "rootlessHome" | "runtimeName" | "setAsDefault" | "enableCdi">;

/**
 * The runtime's steps: the rendered config files with their
 * guarded writes, a restart only on change with rollback, the CDI spec where asked, and a check that
 * the runtime lists the nvidia runtime. Without `writeToolkitConfig` the toolkit config is left to the toolkit plan.
 */
export function runtimePlan(snapshot: HostSnapshot, spec: RuntimeSpec, writeToolkitConfig = true): { steps: PlanStep[]; files: RenderResult[] } {
    const runtime = validateChoice(spec.runtime, RUNTIMES, "runtime");
    const runtimeName = validate(spec.runtimeName ?? "nvidia", "name", "runtimeName");
    const live = snapshot.files;
    const containerdDump = snapshot.containerdDump;
    const steps: PlanStep[] = [];
    const files: RenderResult[] = [];
    const settings = writeToolkitConfig ? runtimeToolkitSettings(runtime, modeOnHost(snapshot)) : [];
    if (settings.length > 0) {
        const toolkitConfig = toolkitConfigStep(snapshot, settings);
        steps.push(toolkitConfig);
        files.push(...(toolkitConfig.files ?? []));
    }

    const common = { runtimeName, setAsDefault: spec.setAsDefault ?? false, enableCdi: spec.enableCdi ?? false };
    switch (runtime) {
        case "docker": {
            const result = renderDockerConfig(live[DOCKER_DAEMON_JSON], common);
            const revision = revisionOf([result], snapshot);
            steps.push(
                guardedFileStep("docker-daemon-json", "Docker daemon.json with the nvidia runtime", result, snapshot, "docker"),
                restartStep("docker", [result], revision),
            );
            files.push(result);
            break;
        }
        case "docker-rootless": {
            // One check of rootlessUser and rootlessHome (absolute, no `..`), shared with the files the preview reads.
            const path = rootlessDaemonJsonPath(spec.rootlessUser, spec.rootlessHome);
            const user = spec.rootlessUser!;
            const result = renderDockerConfig(live[path], { ...common, path });
            steps.push(
                { ...guardedFileStep("docker-rootless-daemon-json", `${user}'s rootless Docker daemon.json`, result, snapshot, undefined, user), runAs: user },
                { ...rootlessRestartStep(user, result, revisionOf([result], snapshot)), runAs: user },
            );
            files.push(result);
            break;
        }
        case "containerd": {
            const result = renderContainerdConfig(live[CONTAINERD_CONFIG], {
                ...common,
                effectiveConfig: containerdDump,
                currentDropIn: live[CONTAINERD_DROP_IN],
            });
            const revision = revisionOf([result.topLevel, result.dropIn], snapshot);
            steps.push(
                guardedFileStep("containerd-config", "containerd config.toml imports the drop-in folder", result.topLevel, snapshot, "containerd"),
                guardedFileStep(
                    "containerd-drop-in",
                    `containerd drop-in with the ${runtimeName} runtime`,
                    result.dropIn,
                    snapshot,
                    "containerd",
                    undefined,
                    true,
                ),
                restartStep("containerd", [result.topLevel, result.dropIn], revision),
            );
            files.push(result.topLevel, result.dropIn);
            break;
        }
        case "crio": {
            const result = renderCrioConfig(live[CRIO_CONFIG], { ...common, currentDropIn: live[CRIO_DROP_IN] });
            steps.push(
                guardedFileStep("crio-drop-in", `CRI-O drop-in with the ${runtimeName} runtime`, result, snapshot, "crio", undefined, true),
                restartStep("crio", [result], revisionOf([result], snapshot)),
            );
            files.push(result);
            break;
        }
        case "cdi":
            break;
    }
    if (runtime === "cdi" || common.enableCdi || runtime === "docker-rootless") steps.push(cdiSpecStep());
    if (runtime === "docker" || runtime === "containerd" || runtime === "crio")
        steps.push(verifyRuntimesStep([runtime], runtimeName, revisionOf(files, snapshot)));
    return { steps, files };
}

/**
 * The toolkit config a runtime needs. Rootless Docker gets its GPUs through CDI (the cdi-spec step; containers ask for
 * `nvidia.com/gpu=…`, and the runtime's jit-cdi and cdi modes read no cgroup settings), so the host-wide `no-cgroups`,
 * which a rootful daemon on the same host needs false, is not flipped (NVIDIA/nvidia-container-toolkit#85). Only in
 * legacy mode does the rootless runtime call nvidia-container-cli, which must then skip cgroups: `no-cgroups = true`,
 * as NVIDIA's rootless guide says, with a warning (rootlessLegacyFindings).
 */
export function runtimeToolkitSettings(runtime: Runtime, mode: string): ToolkitSetting[] {
    return runtime === "docker-rootless" && mode === "legacy" ? [{ key: "nvidia-container-cli.no-cgroups", value: true }] : [];
}

/** The warning that goes with `no-cgroups = true`: a rootful daemon on the same host loses its GPUs' cgroup setup. */
function rootlessLegacyFindings(settings: ToolkitSetting[]): Finding[] {
    if (!settings.some((s) => s.key === "nvidia-container-cli.no-cgroups")) return [];
    return [
        {
            id: "rootless-legacy-no-cgroups",
            severity: "warning",
            message:
                "rootless Docker in the legacy injection mode needs nvidia-container-cli.no-cgroups = true, host-wide: a rootful Docker on this host then starts GPU containers without device cgroups (NVIDIA/nvidia-container-toolkit#85)",
            fix: "set toolkit.mode to jit-cdi or cdi (toolkit 1.18 or newer resolves auto to jit-cdi), so rootless containers get GPUs through CDI and no-cgroups stays false",
        },
    ];
}

/**
 * A `no-cgroups = true` the plan does not ask for (left by a rootless node in legacy mode, by an older version of this
 * library, or by hand): the plan does not take a setting back that it cannot tell was its own, so it says what it costs.
 */
function leftoverNoCgroupsFindings(settings: ToolkitSetting[], liveConfig: string | undefined): Finding[] {
    if (liveConfig === undefined || settings.some((s) => s.key === "nvidia-container-cli.no-cgroups") || !setsNoCgroups(liveConfig)) return [];
    return [
        {
            id: "toolkit-no-cgroups-left",
            severity: "warning",
            message: `${TOOLKIT_CONFIG} sets nvidia-container-cli.no-cgroups = true, which this plan does not need: GPU containers started through NVIDIA's legacy hook (\`docker run --gpus\`, legacy mode) get no device cgroups (NVIDIA/nvidia-container-toolkit#85)`,
            fix: "remove the no-cgroups line unless a rootless daemon on this host runs in legacy mode",
        },
    ];
}

/** The injection mode on a host that a runtime component configures alone: its installed toolkit and config.toml. */
function modeOnHost(snapshot: HostSnapshot): string {
    const packages = snapshot.facts.toolkitPackages;
    const version = packages["nvidia-container-toolkit-base"] ?? packages["nvidia-container-toolkit"];
    // No toolkit installed yet (its component installs it): the version this library pins by default resolves auto to jit-cdi.
    return version === undefined ? "jit-cdi" : injectionMode(version, undefined, snapshot.files[TOOLKIT_CONFIG]).mode;
}
