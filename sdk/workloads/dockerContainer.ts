import { GpuConfigError } from "../errors";
import { DOCKER_GPUS_CAPABILITIES, requestedCapabilities } from "../cuda/driverCapabilities";
import { parseCudaImage } from "../cuda/imagePolicy";
import { quote, script, sh } from "../shell/shellScript";
import { validate, validateChoice, validateNoNulDeep } from "../validate";
import { sha256 } from "../steps/fileStep";
import { DockerRunOptions, dockerRunArguments } from "./dockerRunOptions";
import { PlanStep } from "../steps/planStep";
import { ContainerEngineName, engineAndMode, rootlessSession } from "./containerEngine";
import { secretEnvNames } from "./secretEnv";

/** How a container gets its GPUs. */
export const GPU_MODES = ["gpus", "runtime", "cdi", "none"] as const;
export type GpuMode = (typeof GPU_MODES)[number];
export const RESTART_POLICIES = ["no", "always", "unless-stopped", "on-failure"] as const;

export interface DockerContainerSpec {
    name: string;
    image: string;
    /** `gpus` (`--gpus`), `runtime` (`--runtime=nvidia` + NVIDIA_VISIBLE_DEVICES) or `cdi` (`--device nvidia.com/gpu=…`). */
    mode?: GpuMode;
    /** GPU indices or UUIDs, or `["all"]` (default). */
    devices?: string[];
    restart?: (typeof RESTART_POLICIES)[number];
    env?: Record<string, string>;
    args?: string[];
    driverCapabilities?: string[];
    preset?: string;
    runtimeName?: string;
    /** Ports, volumes, IPC, limits, …: rendered before the image. */
    options?: DockerRunOptions;
    /**
     * Names of variables whose values are secret: the step reads them from the env-file that `secretEnvPreamble`
     * (prepended on the command's secret stdin) writes; the script and its preview hold the names only.
     */
    secretEnv?: string[];
    /** Run `docker` as this user against their rootless daemon (DOCKER_HOST=unix:///run/user/<uid>/docker.sock); `podman` as this user. */
    rootlessUser?: string;
    /** `docker` (default) or `podman` (CDI devices only; its default mode is `cdi`). */
    engine?: ContainerEngineName;
}

/**
 * What the caller calls each spec field, for errors: a component passes its own arg names
 * (`{ name: "containerName", mode: "gpuSelection" }`), so a refusal names the arg the user wrote.
 */
export type DockerContainerFieldNames = Partial<Record<keyof DockerContainerSpec, string>>;

/**
 * The `docker run` arguments that select GPUs, per mode. `capabilities` undefined: nothing is sent, so the image's own
 * NVIDIA_DRIVER_CAPABILITIES (or the toolkit's compute,utility) applies.
 */
export function gpuArguments(mode: GpuMode, devices: string[], capabilities: string[] | undefined, runtimeName = "nvidia"): string[] {
    const all = devices.length === 1 && devices[0] === "all";
    const capsEnv = capabilities === undefined ? [] : ["-e", `NVIDIA_DRIVER_CAPABILITIES=${capabilities.join(",")}`];
    switch (mode) {
        case "gpus": {
            // Docker reads --gpus as CSV: a field holding commas must be quoted.
            const deviceField = all ? "all" : devices.length === 1 ? `device=${devices[0]}` : `"device=${devices.join(",")}"`;
            // Docker's nvidia device driver knows six capabilities (moby daemon/nvidia_linux.go): `ngx` fails with "could
            // not select device driver", and `all` is not one of them. Those go as the variable, which Docker then leaves alone.
            if (capabilities === undefined) return ["--gpus", deviceField];
            if (capabilities.some((c) => !DOCKER_GPUS_CAPABILITIES.includes(c))) return ["--gpus", deviceField, ...capsEnv];
            const caps = capabilities.length === 1 ? `capabilities=${capabilities[0]}` : `"capabilities=${capabilities.join(",")}"`;
            return ["--gpus", `${deviceField},${caps}`];
        }
        case "runtime":
            return [`--runtime=${runtimeName}`, "-e", `NVIDIA_VISIBLE_DEVICES=${devices.join(",")}`, ...capsEnv];
        case "none":
            return [];
        case "cdi":
            // The CDI spec decides what is mounted (capabilities filter nothing there); the variable tells the image what was asked.
            return [...devices.flatMap((d) => ["--device", `nvidia.com/gpu=${d}`]), ...capsEnv];
    }
}

/** Why the capabilities travel the way they do in this mode, for the preview; undefined when there is nothing to say. */
export function capabilityNote(mode: GpuMode, capabilities: string[] | undefined): string | undefined {
    if (mode === "none") return undefined;
    if (capabilities === undefined)
        return "no driver capabilities given: the image's own NVIDIA_DRIVER_CAPABILITIES applies (the toolkit's default is compute,utility)";
    if (mode === "gpus" && capabilities.some((c) => !DOCKER_GPUS_CAPABILITIES.includes(c)))
        return `${capabilities.join(",")} is passed as NVIDIA_DRIVER_CAPABILITIES, not as --gpus capabilities: Docker's nvidia device driver knows only ${DOCKER_GPUS_CAPABILITIES.join(", ")}`;
    if (mode === "gpus" && capabilities.includes("graphics") && capabilities.includes("compute"))
        return "--gpus does not mount the host's OpenCL ICD (/etc/OpenCL/vendors/nvidia.icd): for OpenCL use gpuSelection runtime or cdi, or an image that ships the ICD";
    return undefined;
}

/** A container step and the `docker run` line a preview shows (secret values appear as their names only). */
export interface DockerContainerPlan {
    step: PlanStep;
    /** `docker run …` as the step runs it, quoted for a shell; `--env-file <secret: A, B>` stands for the secret file. */
    commandLine: string;
    /** The driver capabilities sent, or undefined when the image decides. */
    capabilities: string[] | undefined;
    notes: string[];
    /** The GPU mode after defaults (Podman's is `cdi`). */
    mode: GpuMode;
    /** The restart policy after defaults. */
    restart: (typeof RESTART_POLICIES)[number];
}

/**
 * One step that runs the container: nothing happens when a container of that name already runs the
 * same spec (a label holds its checksum); otherwise it is replaced. Its undo removes the container.
 */
export function dockerContainerStep(spec: DockerContainerSpec, fieldNames: DockerContainerFieldNames = {}): PlanStep {
    return dockerContainerPlan(spec, fieldNames).step;
}

export function dockerContainerPlan(spec: DockerContainerSpec, fieldNames: DockerContainerFieldNames = {}): DockerContainerPlan {
    const field = (key: keyof DockerContainerSpec): string => fieldNames[key] ?? key;
    // A NUL anywhere is refused naming its field (`args[1]`, `env.FOO`), never its value.
    validateNoNulDeep(
        {
            [field("name")]: spec.name,
            [field("image")]: spec.image,
            [field("args")]: spec.args ?? [],
            [field("env")]: spec.env ?? {},
            [field("devices")]: spec.devices ?? [],
            [field("driverCapabilities")]: spec.driverCapabilities ?? [],
            [field("preset")]: spec.preset,
            [field("runtimeName")]: spec.runtimeName,
            [field("rootlessUser")]: spec.rootlessUser,
            [field("engine")]: spec.engine,
        },
        "",
    );
    validateNoNulDeep(spec.options ?? {}, "");
    const name = validate(spec.name, "name", field("name"));
    validate(spec.runtimeName ?? "nvidia", "name", field("runtimeName"));
    const rootlessUser = spec.rootlessUser === undefined ? undefined : validate(spec.rootlessUser, "name", field("rootlessUser"));
    parseCudaImage(spec.image, field("image")); // pinned, and a known CUDA tag where it is a CUDA image
    const chosen = engineAndMode(spec.engine, spec.mode, { engine: field("engine"), mode: field("mode") });
    const cli = chosen.engine;
    const mode = validateChoice(chosen.mode ?? "gpus", GPU_MODES, field("mode"));
    const restart = validateChoice(spec.restart ?? "unless-stopped", RESTART_POLICIES, field("restart"));
    const devices = (spec.devices ?? ["all"]).map((d, i) => {
        if (!/^(all|\d+(:\d+)?|GPU-[0-9a-f-]+|MIG-[0-9a-f-]+)$/.test(d))
            throw new GpuConfigError(`${field("devices")}[${i}]`, `${JSON.stringify(d)} is not a GPU`, "use an index (0), a UUID (GPU-…) or all");
        return d;
    });
    if (devices.includes("all") && devices.length > 1)
        throw new GpuConfigError(field("devices"), '"all" cannot be combined with other devices', 'give "all" alone');
    const capabilities = requestedCapabilities(spec.driverCapabilities, spec.preset, field("driverCapabilities"));
    // A companion without a GPU sends none of these: refused rather than dropped unseen.
    if (mode === "none")
        for (const [key, given] of [
            ["driverCapabilities", spec.driverCapabilities !== undefined],
            ["preset", spec.preset !== undefined],
            ["devices", spec.devices !== undefined && !(spec.devices.length === 1 && spec.devices[0] === "all")],
        ] as const)
            if (given)
                throw new GpuConfigError(field(key), `is ignored with ${field("mode")} none`, `remove it, or choose a ${field("mode")} that gives a GPU`);
    const env = Object.entries(spec.env ?? {}).map(([k, v]) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new GpuConfigError(`${field("env")}.${k}`, "is not a variable name", "use letters, digits and _");
        return `${k}=${v}`;
    });
    const secrets = secretEnvNames(spec.secretEnv ?? [], field("secretEnv"));
    for (const k of secrets)
        if (spec.env !== undefined && k in spec.env)
            throw new GpuConfigError(`${field("secretEnv")}.${k}`, `is also in ${field("env")}`, "give it in one of them");
    const options = dockerRunArguments(spec.options ?? {});
    const runArgs = [
        "--detach",
        "--name",
        name,
        "--restart",
        restart,
        ...gpuArguments(mode, devices, capabilities, spec.runtimeName),
        ...env.flatMap((e) => ["-e", e]),
        ...options.before,
    ];
    const command = [...options.afterImage, ...(spec.args ?? [])];
    // Docker's fingerprint is unchanged from before engines existed, so an upgrade replaces no running container.
    const fingerprint = sha256(
        JSON.stringify({ image: spec.image, runArgs, args: command, secrets, rootlessUser, ...(cli === "docker" ? {} : { engine: cli }) }),
    );
    const daemon = rootlessSession(cli, rootlessUser);
    const envFile = secrets.length === 0 ? sh`` : sh`--env-file "$secret_env_file"`;
    const notes = [capabilityNote(mode, capabilities)].filter((n): n is string => n !== undefined);
    const step: PlanStep = {
        name: `container-${name}`,
        description: `${cli === "docker" ? "" : `${cli} `}container ${name} from ${spec.image} (${mode === "none" ? "no GPU" : `${mode}: ${devices.join(",")}`})`,
        script: script(
            ...daemon,
            sh`name=${name}`,
            sh`want=${fingerprint}`,
            ...(secrets.length === 0
                ? []
                : [
                      // The values arrive in a 0600 file the stdin preamble wrote; their checksum joins the label, so a changed secret replaces the container.
                      sh`[ -f "\${secret_env_file:-}" ] || { echo ${`error: the secret environment (${secrets.join(", ")}) did not arrive on stdin`} >&2; exit 1; }`,
                      sh`want="$want-$(sha256sum < "$secret_env_file" | cut -c 1-16)"`,
                  ]),
            sh`current=$(${cli} inspect --format '{{index .Config.Labels "nvidia-gpu.pulumi.com/spec"}} {{.State.Running}}' "$name" 2>/dev/null || true)`,
            sh`if [ "$current" = "$want true" ]; then echo "unchanged: container $name"; exit 0; fi`,
            sh`${cli} rm -f "$name" >/dev/null 2>&1 || true`,
            // A failed `docker run --detach` can leave a Created container; a failed create is not in Pulumi's
            // state, so no destroy would ever remove it: remove it here.
            sh`if ! out=$(${cli} run ${runArgs} ${envFile} --label "nvidia-gpu.pulumi.com/spec=$want" ${spec.image} ${command} 2>&1 >/dev/null); then
    ${cli} rm -f "$name" >/dev/null 2>&1 || true
    echo "error: ${cli} run of container $name failed, and the container was removed: $out" >&2
    exit 1
fi`,
            sh`echo "started container $name"`,
        ),
        undoScript: script(...daemon, sh`${cli} rm -f ${name} >/dev/null 2>&1 || true`, sh`echo "removed container "${name}`),
        changes: [`container ${name}`],
        root: rootlessUser === undefined,
        ...(rootlessUser === undefined ? {} : { runAs: rootlessUser }),
    };
    const secretWords = secrets.length === 0 ? [] : ["--env-file", `<secret: ${secrets.join(", ")}>`];
    const commandLine = [cli, "run", ...runArgs, ...secretWords, spec.image, ...command].map((w) => (w.startsWith("<secret") ? w : quote(w))).join(" ");
    return { step, commandLine, capabilities, notes, mode, restart };
}
