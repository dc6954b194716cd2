import { GpuConfigError } from "../errors";
import { DataCentreIntent, dataCentrePreflight } from "../datacentre/dataCentrePreflight";
import { Finding } from "../host/preflight";
import { preflight } from "./preflight";
import { cdiSpecFormatFindings } from "../runtime/cdiPreflight";
import { HostSnapshot } from "../host/snapshot";
import { RenderResult } from "../steps/renderResult";
import { TOOLKIT_CONFIG, ToolkitSetting, setsNoCgroups } from "../toolkit/toolkitConfig";
import { RuntimeEngine, RuntimeSpec } from "../runtime/engine";
import { engineOf } from "../runtime/registry";
import { verifyRuntimesStep } from "../runtime/verifyStep";
import { validate } from "../validate";
import { DEFAULT_RUNTIME_NAME, DEFAULT_TOOLKIT_VERSION } from "../spec/defaults";
import { dataCentrePlan } from "../datacentre/dataCentrePlan";
import { DriverSpec, driverPlan } from "../driver/driverPlan";
import { driverPinDecision } from "../driver/driverPin";
import { revisionOf } from "../steps/guardedFileStep";
import { injectionMode, runtimeModeFindings, validateRuntimeMode } from "../toolkit/injectionMode";
import { NodePlan, PlanStep } from "../steps/planStep";
import { cdiSpecStep } from "../toolkit/toolkitSteps";
import { MigLayoutSpec } from "../datacentre/migLayout";
import { manageObjects } from "../steps/managedObjectStep";
import { ToolkitSpec, toolkitConfigStep, toolkitPlan } from "../toolkit/toolkitPlan";

export { RUNTIMES, Runtime } from "../spec/choices";
export { RuntimeSpec } from "../runtime/engine";

/** Everything a GPU node should end up with. */
export interface NodeSpec extends RuntimeSpec {
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
    const engine = engineOf(spec.runtime);
    const runtimeName = validate(spec.runtimeName ?? DEFAULT_RUNTIME_NAME, "name", "runtimeName");
    const mode = validateRuntimeMode(spec.toolkit.mode, spec.toolkit.version);
    const installDriver = spec.driver !== undefined && !facts.wsl2;
    // A driver no package owns: a pin it satisfies installs nothing, one it does not is refused (issue 23).
    const pin = installDriver ? driverPinDecision(facts, spec.driver!) : undefined;
    const runtimePart = runtimeSteps(snapshot, engine, { ...spec, runtimeName });
    const findings = preflight(facts, {
        installDriver: spec.driver !== undefined && pin?.kind !== "keep",
        signedDriverModules: facts.os.id === "ubuntu" && (spec.driver?.source ?? "distro") === "distro",
        rules: engine.preflight,
        driver: spec.driver,
        // A restart (systemctl) is needed only when the runtime's configuration changes.
        restarts: engine.restarts && runtimePart.files.some((f) => f.changed) ? [engine.runtime] : [],
    });
    findings.push(...runtimePart.findings);
    const dataCentreIntent = { fabricManager: spec.fabricManager, persistenced: spec.persistenced, driver: installDriver ? spec.driver : undefined };
    findings.push(...dataCentrePreflight(facts, dataCentreIntent));
    if (pin?.kind === "keep") findings.push(pin.note);
    if (pin?.kind === "conflict") findings.push(pin.finding);
    // Toolkit ≥ 1.19.1 writes CDI spec v0.7.0, which older runtimes cannot read (issue 16).
    findings.push(...cdiSpecFormatFindings(facts, spec.toolkit.version, engine.needsCdiSpec(spec.enableCdi ?? false)));
    findings.push(...runtimeModeFindings(mode, engine.dockerGpusFlag, spec.setAsDefault ?? false));
    const effectiveMode = injectionMode(spec.toolkit.version, mode, snapshot.files[TOOLKIT_CONFIG]).mode;
    const toolkitSettings = engine.toolkitSettings(effectiveMode);
    findings.push(...rootlessLegacyFindings(toolkitSettings), ...leftoverNoCgroupsFindings(toolkitSettings, snapshot.files[TOOLKIT_CONFIG]));
    throwPreflightErrors(findings);
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

    steps.push(...runtimePart.steps);
    // Packages, services, the CDI spec and MIG: read at preview, their drift changes the repairing steps' inputs (issue 22).
    const managed = manageObjects(steps, snapshot);
    return { plan: { steps: managed }, findings, files: [...driverSteps, ...toolkitSteps].flatMap((s) => s.files ?? []).concat(runtimePart.files) };
}

/**
 * The runtime's steps, as the runtime components plan them alone: the toolkit config the runtime needs in the
 * host's injection mode, then its engine's steps (see runtimeSteps).
 */
export function runtimePlan(snapshot: HostSnapshot, spec: RuntimeSpec): { steps: PlanStep[]; files: RenderResult[]; findings: Finding[] } {
    const engine = engineOf(spec.runtime);
    const runtimeName = validate(spec.runtimeName ?? DEFAULT_RUNTIME_NAME, "name", "runtimeName");
    const steps: PlanStep[] = [];
    const files: RenderResult[] = [];
    const settings = engine.toolkitSettings(modeOnHost(snapshot));
    if (settings.length > 0) {
        const toolkitConfig = toolkitConfigStep(snapshot, settings);
        steps.push(toolkitConfig);
        files.push(...(toolkitConfig.files ?? []));
    }
    const part = runtimeSteps(snapshot, engine, { ...spec, runtimeName });
    throwPreflightErrors(part.findings);
    return { steps: [...steps, ...part.steps], files: [...files, ...part.files], findings: part.findings };
}

/**
 * An engine's steps: the rendered config files with their guarded writes, a restart only on change with rollback,
 * the CDI spec where asked, and a check that the runtime lists the nvidia runtime.
 */
function runtimeSteps(
    snapshot: HostSnapshot,
    engine: RuntimeEngine,
    spec: Omit<RuntimeSpec, "runtime"> & { runtimeName: string },
): { steps: PlanStep[]; files: RenderResult[]; findings: Finding[] } {
    const enableCdi = spec.enableCdi ?? false;
    const { steps, files, findings = [] } = engine.configure(snapshot, { ...spec, setAsDefault: spec.setAsDefault ?? false, enableCdi });
    if (engine.needsCdiSpec(enableCdi)) steps.push(cdiSpecStep());
    if (engine.verify !== undefined) {
        // Only an engine whose check reads `$default` gets it: the others' verify inputs stay as they were.
        const asDefault = (spec.setAsDefault ?? false) && (engine.verifiesDefault ?? false);
        steps.push(verifyRuntimesStep([{ runtime: engine.runtime, verify: engine.verify }], spec.runtimeName, revisionOf(files, snapshot), asDefault));
    }
    return { steps, files, findings };
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
    // No toolkit installed yet (its component installs it): the mode the version this library pins by default resolves auto to.
    return injectionMode(version ?? DEFAULT_TOOLKIT_VERSION, undefined, version === undefined ? undefined : snapshot.files[TOOLKIT_CONFIG]).mode;
}

/** One GpuConfigError listing every error finding, each with its id, and their fixes. */
function throwPreflightErrors(findings: Finding[]): void {
    const errors = findings.filter((f) => f.severity === "error");
    if (errors.length > 0) {
        throw new GpuConfigError("preflight", errors.map((e) => `${e.message} (${e.id})`).join("; "), errors.map((e) => e.fix).join("; "));
    }
}
