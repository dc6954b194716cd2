import { GpuConfigError } from "../errors";
import { driverCapabilities } from "../cuda/driverCapabilities";
import { parseCudaImage } from "../cuda/imagePolicy";
import { script, sh } from "../shell/shellScript";
import { validate, validateChoice, validateNoNulDeep } from "../validate";
import { sha256 } from "./fileStep";
import { PlanStep } from "./planStep";

/** How a container gets its GPUs. */
export const GPU_MODES = ["gpus", "runtime", "cdi"] as const;
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
}

/**
 * What the caller calls each spec field, for errors: a component passes its own arg names
 * (`{ name: "containerName", mode: "gpuSelection" }`), so a refusal names the arg the user wrote.
 */
export type DockerContainerFieldNames = Partial<Record<keyof DockerContainerSpec, string>>;

const LABEL = "nvidia-gpu.pulumi.com/spec";

/** The `docker run` arguments that select GPUs, per mode. */
export function gpuArguments(mode: GpuMode, devices: string[], capabilities: string[], runtimeName = "nvidia"): string[] {
    const all = devices.length === 1 && devices[0] === "all";
    switch (mode) {
        case "gpus": {
            // Docker reads --gpus as CSV: a field holding commas must be quoted.
            const deviceField = all ? "all" : devices.length === 1 ? `device=${devices[0]}` : `"device=${devices.join(",")}"`;
            const caps = capabilities.includes("all")
                ? []
                : [capabilities.length === 1 ? `capabilities=${capabilities[0]}` : `"capabilities=${capabilities.join(",")}"`];
            return ["--gpus", [deviceField, ...caps].join(",")];
        }
        case "runtime":
            return [
                `--runtime=${runtimeName}`,
                "-e",
                `NVIDIA_VISIBLE_DEVICES=${devices.join(",")}`,
                "-e",
                `NVIDIA_DRIVER_CAPABILITIES=${capabilities.join(",")}`,
            ];
        case "cdi":
            return devices.flatMap((d) => ["--device", `nvidia.com/gpu=${d}`]);
    }
}

/**
 * One step that runs the container: nothing happens when a container of that name already runs the
 * same spec (a label holds its checksum); otherwise it is replaced. Its undo removes the container.
 */
export function dockerContainerStep(spec: DockerContainerSpec, fieldNames: DockerContainerFieldNames = {}): PlanStep {
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
        },
        "",
    );
    const name = validate(spec.name, "name", field("name"));
    validate(spec.runtimeName ?? "nvidia", "name", field("runtimeName"));
    parseCudaImage(spec.image, field("image")); // pinned, and a known CUDA tag where it is a CUDA image
    const mode = validateChoice(spec.mode ?? "gpus", GPU_MODES, field("mode"));
    const restart = validateChoice(spec.restart ?? "unless-stopped", RESTART_POLICIES, field("restart"));
    const devices = (spec.devices ?? ["all"]).map((d, i) => {
        if (!/^(all|\d+(:\d+)?|GPU-[0-9a-f-]+|MIG-[0-9a-f-]+)$/.test(d))
            throw new GpuConfigError(`${field("devices")}[${i}]`, `${JSON.stringify(d)} is not a GPU`, "use an index (0), a UUID (GPU-…) or all");
        return d;
    });
    if (devices.includes("all") && devices.length > 1)
        throw new GpuConfigError(field("devices"), '"all" cannot be combined with other devices', 'give "all" alone');
    const capabilities = driverCapabilities(spec.driverCapabilities, spec.preset, field("driverCapabilities"));
    const env = Object.entries(spec.env ?? {}).map(([k, v]) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new GpuConfigError(`${field("env")}.${k}`, "is not a variable name", "use letters, digits and _");
        return `${k}=${v}`;
    });
    const runArgs = [
        "--detach",
        "--name",
        name,
        "--restart",
        restart,
        ...gpuArguments(mode, devices, capabilities, spec.runtimeName),
        ...env.flatMap((e) => ["-e", e]),
    ];
    const fingerprint = sha256(JSON.stringify({ image: spec.image, runArgs, args: spec.args ?? [] }));
    return {
        name: `container-${name}`,
        description: `container ${name} from ${spec.image} (${mode}: ${devices.join(",")})`,
        script: script(
            sh`name=${name}`,
            sh`want=${fingerprint}`,
            sh`current=$(docker inspect --format '{{index .Config.Labels "nvidia-gpu.pulumi.com/spec"}} {{.State.Running}}' "$name" 2>/dev/null || true)`,
            sh`if [ "$current" = "$want true" ]; then echo "unchanged: container $name"; exit 0; fi`,
            sh`docker rm -f "$name" >/dev/null 2>&1 || true`,
            // A failed `docker run --detach` can leave a Created container; a failed create is not in Pulumi's
            // state, so no destroy would ever remove it: remove it here.
            sh`if ! out=$(docker run ${runArgs} --label ${`${LABEL}=${fingerprint}`} ${spec.image} ${spec.args ?? []} 2>&1 >/dev/null); then
    docker rm -f "$name" >/dev/null 2>&1 || true
    echo "error: docker run of container $name failed, and the container was removed: $out" >&2
    exit 1
fi`,
            sh`echo "started container $name"`,
        ),
        undoScript: script(sh`docker rm -f ${name} >/dev/null 2>&1 || true`, sh`echo "removed container "${name}`),
        changes: [`container ${name}`],
        root: true,
    };
}
