import { Finding, PreflightRule } from "../host/preflight";
import { HostSnapshot, WatchedFile } from "../host/snapshot";
import { PlanStep } from "../steps/planStep";
import { RenderResult } from "../steps/renderResult";
import { ToolkitSetting } from "../toolkit/toolkitConfig";
import { ShellFragment } from "../shell/shellScript";
import { Runtime } from "../spec/choices";

/** The runtime part of a node's spec: what DockerRuntime, ContainerdRuntime, CrioRuntime and CdiSpec configure. */
export interface RuntimeSpec {
    runtime: Runtime;
    /** Owner of the rootless Docker daemon; required for `docker-rootless`. */
    rootlessUser?: string;
    /** Home of `rootlessUser`. Default `/home/<user>`. */
    rootlessHome?: string;
    runtimeName?: string;
    setAsDefault?: boolean;
    enableCdi?: boolean;
}

/** A runtime spec with its defaults applied and its runtime name checked: what an engine renders from. */
export interface EngineSpec {
    runtimeName: string;
    setAsDefault: boolean;
    enableCdi: boolean;
    rootlessUser?: string;
    rootlessHome?: string;
}

/** The options every runtime's renderer takes, from an engine spec. */
export function renderOptions(spec: EngineSpec): { runtimeName: string; setAsDefault: boolean; enableCdi: boolean } {
    return { runtimeName: spec.runtimeName, setAsDefault: spec.setAsDefault, enableCdi: spec.enableCdi };
}

/** The config files an engine renders, their guarded writes, and its restart. */
export interface RuntimeConfig {
    steps: PlanStep[];
    files: RenderResult[];
    /** What the host's live config says that the files cannot repair (containerd: a later drop-in replaces its section). */
    findings?: Finding[];
}

/** How a runtime's daemon is validated, restarted and waited for (systemd units). */
export interface ServiceControl {
    /** The systemd unit, also the restart step's and stamp's name. */
    unit: string;
    /** Checks the new config without starting the daemon. */
    validate: ShellFragment;
    restart: ShellFragment;
    /** Succeeds once the daemon answers. */
    ready: ShellFragment;
    /** The daemon's own last words, for the error message. */
    logs: ShellFragment;
}

/**
 * One container runtime, everything the plan must know of it in one place (as NVIDIA's pkg/config/engine does per
 * engine). `RUNTIME_ENGINES` (registry.ts) maps every `Runtime` to its engine, so the compiler refuses a runtime that
 * is not handled.
 */
export interface RuntimeEngine {
    readonly runtime: Runtime;
    /** The files its plan reads at preview and may edit (besides the toolkit's). */
    watchedFiles(spec: Pick<RuntimeSpec, "rootlessUser" | "rootlessHome">): WatchedFile[];
    /** Its rendered config files with their guarded writes, and a restart (validated, rolled back) only on change. */
    configure(snapshot: HostSnapshot, spec: EngineSpec): RuntimeConfig;
    /** A change of its config restarts a daemon through systemctl (preflight's no-systemd rule). */
    readonly restarts: boolean;
    /** Its preflight rules: the daemon is there, in a version NVIDIA supports, in a form the plan can configure. */
    readonly preflight: readonly PreflightRule[];
    /** The plan writes the CDI spec for it: always where it gets GPUs only through CDI, else when `enableCdi` asks. */
    needsCdiSpec(enableCdi: boolean): boolean;
    /** The check that the daemon lists the nvidia runtime (`$name`), for the verify step; none where no daemon is asked. */
    readonly verify?: ShellFragment;
    /** The verify check reads `$default` too: with setAsDefault it fails unless the daemon's loaded default is the runtime. */
    readonly verifiesDefault?: boolean;
    /** The SSH user `DOCKER_HOST` logs in as; undefined: the connection's. */
    dockerHostUser(spec: Pick<RuntimeSpec, "rootlessUser">): string | undefined;
    /** Warnings when `dockerHost` would not reach its daemon as that user (docker group, rootless context); none where no Docker CLI applies. */
    dockerHostFindings(snapshot: HostSnapshot, spec: Pick<RuntimeSpec, "rootlessUser" | "rootlessHome">): Finding[];
    /** The toolkit config settings it needs in an injection mode. */
    toolkitSettings(mode: string): ToolkitSetting[];
    /** Its containers may be started with `docker run --gpus`, which only NVIDIA's legacy hook serves. */
    readonly dockerGpusFlag: boolean;
}
