import * as pulumi from "@pulumi/pulumi";
import { HostFacts } from "../../sdk/host/hostFacts";
import { fuzzFacts } from "./hostFixture";
import { RecordingHostReader } from "./drive";

type Api = typeof import("../../index");
type Args = Record<string, any>;

/** How a component of the public API is built for one fuzz case. */
export interface ComponentUnderTest {
    /** Constructs it as a user's program does, with the stand-in host reader. */
    construct(api: Api, name: string, args: Args, reader: RecordingHostReader): pulumi.Resource;
    /** Its step commands (none for the Kubernetes components, which run no script). */
    commands(api: Api, r: pulumi.Resource): pulumi.Output<pulumi.Resource[]>;
    /** Valid args that reach every step: each case puts one hostile value into them. */
    base(): Args;
    facts: HostFacts;
}

const SERVER = fuzzFacts("server");
const DATACENTRE = fuzzFacts("datacentre");
const CONNECTION = { host: "gpu-1.example", user: "root" };
const IMAGE = "nvidia/cuda:12.4.1-base-ubuntu22.04";
const scripted = (api: Api, r: pulumi.Resource) => api.commandsOf(r);
const none = () => pulumi.output([] as pulumi.Resource[]);

export const COMPONENTS: Record<string, ComponentUnderTest> = {
    GpuNode: {
        construct: (api, name, args, reader) => new api.GpuNode(name, args as never, { hostReader: reader }),
        commands: scripted,
        base: () => ({ connection: { ...CONNECTION }, runtime: "docker", toolkit: { version: "1.20.0-1" }, enableCdi: true }),
        facts: SERVER,
    },
    NvidiaDriver: {
        construct: (api, name, args, reader) => new api.NvidiaDriver(name, args as never, { hostReader: reader }),
        commands: scripted,
        base: () => ({ connection: { ...CONNECTION }, branch: "580" }),
        facts: SERVER,
    },
    ContainerToolkit: {
        construct: (api, name, args, reader) => new api.ContainerToolkit(name, args as never, { hostReader: reader }),
        commands: scripted,
        base: () => ({ connection: { ...CONNECTION }, version: "1.20.0-1" }),
        facts: SERVER,
    },
    DockerRuntime: {
        construct: (api, name, args, reader) => new api.DockerRuntime(name, args as never, { hostReader: reader }),
        commands: scripted,
        base: () => ({ connection: { ...CONNECTION }, enableCdi: true }),
        facts: SERVER,
    },
    ContainerdRuntime: {
        construct: (api, name, args, reader) => new api.ContainerdRuntime(name, args as never, { hostReader: reader }),
        commands: scripted,
        base: () => ({ connection: { ...CONNECTION }, enableCdi: true }),
        facts: SERVER,
    },
    CrioRuntime: {
        construct: (api, name, args, reader) => new api.CrioRuntime(name, args as never, { hostReader: reader }),
        commands: scripted,
        base: () => ({ connection: { ...CONNECTION } }),
        facts: SERVER,
    },
    CdiSpec: {
        construct: (api, name, args, reader) => new api.CdiSpec(name, args as never, { hostReader: reader }),
        commands: scripted,
        base: () => ({ connection: { ...CONNECTION }, output: "/etc/cdi/nvidia.yaml" }),
        facts: SERVER,
    },
    DockerGpuContainer: {
        construct: (api, name, args, reader) => new api.DockerGpuContainer(name, args as never, { hostReader: reader }),
        commands: scripted,
        base: () => ({
            connection: { ...CONNECTION },
            image: IMAGE,
            driverVersion: "580.95.05",
            devices: ["0"],
            env: { MODE: "batch" },
            args: ["nvidia-smi", "-L"],
            // Valid siblings, so a hostile value in one field of an element is refused by that field's name.
            ports: [{ internal: 8080, external: 18080 }],
            volumes: [{ containerPath: "/data", hostPath: "/srv/data", readOnly: true }],
            ulimits: [{ name: "memlock", soft: -1, hard: -1 }],
            healthcheck: { tests: ["CMD", "true"], interval: "30s" },
            secretEnv: { TOKEN: "fuzz-secret" },
        }),
        facts: SERVER,
    },
    KubernetesGpuSupport: {
        construct: (api, name, args) => new api.KubernetesGpuSupport(name, args as never),
        commands: none,
        base: () => ({
            namespace: "kube-system",
            nodeSelector: { "nvidia.com/gpu.present": "true" },
            labelNodes: ["gpu-1"],
            sharing: { strategy: "time-slicing", replicas: 4 },
            validate: true,
            gpuOperator: { version: "v25.3.0" },
        }),
        facts: SERVER,
    },
    GpuWorkload: {
        construct: (api, name, args) => new api.GpuWorkload(name, args as never),
        commands: none,
        base: () => ({
            image: IMAGE,
            command: ["nvidia-smi"],
            args: ["-L"],
            env: { MODE: "batch" },
            nodeSelector: { "nvidia.com/gpu.present": "true" },
            nodeDriverVersions: ["580.95.05"],
            driverCapabilities: ["compute", "utility"],
        }),
        facts: SERVER,
    },
};

/**
 * Args that reach the code reading `path`: a field that only some settings read gets them (a rootless home needs
 * the rootless runtime, a CUDA mirror the cuda-repo source, a MIG layout a data-centre host), and a field that
 * excludes another clears it (`driver.version` with no `branch`). Connection fields plan for a non-root SSH user
 * with a sudo password, so the password travels on stdin as it does for such users.
 */
export function argsFor(resource: string, path: string): { args: Args; facts: HostFacts } {
    const c = COMPONENTS[resource];
    const args = c.base();
    let facts = c.facts;
    if (path.startsWith("connection.")) {
        args.connection = { host: "gpu-1.example", user: "ops", sudoPassword: "sudo-pw" };
        facts = { ...facts, user: { name: "ops", uid: 1001, sudo: "password" } };
    }
    if (resource === "GpuNode" && path.startsWith("driver.")) args.driver = { branch: "580" };
    if (path === "driver.version") args.driver = {};
    if (resource === "NvidiaDriver" && path === "version") delete args.branch;
    if (path.endsWith("cudaRepoUrl")) (path.startsWith("driver.") ? args.driver : args).source = "cuda-repo";
    if (path.startsWith("rootless")) Object.assign(args, { runtime: "docker-rootless", rootlessUser: "alice" });
    if (path.startsWith("migLayout.")) {
        args.migLayout = { devices: [{ gpus: ["0"], profiles: { "3g.40gb": 2 } }], stopServices: ["nvidia-dcgm"] };
        facts = DATACENTRE;
    }
    if (path.startsWith("migLayouts[].")) {
        // KubernetesGpuSupport checks its MIG strategy against the nodes' layouts: `mixed` takes any layout.
        args.migStrategy = "mixed";
        args.migLayouts = [{ devices: [{ gpus: ["0"], profiles: { "3g.40gb": 2 } }], stopServices: ["nvidia-dcgm"] }];
    }
    if (resource === "DockerGpuContainer" && path === "driverBranch") delete args.driverVersion;
    // A named volume excludes a host path.
    if (resource === "DockerGpuContainer" && path === "volumes[].volumeName") delete args.volumes[0].hostPath;
    return { args, facts };
}

/** `args` with `value` at `path` (`a.b`, `list[]`: the first element, `map{}`: a value, `map{key}`: a key). */
export function withValue(args: Args, path: string, value: string): Args {
    const parts = path.split(".");
    let at: Args = args;
    parts.forEach((part, i) => {
        const last = i === parts.length - 1;
        const m = /^([^[{]+)(\[\]|\{\}|\{key\})?$/.exec(part)!;
        const [, key, suffix] = m;
        if (last) {
            if (suffix === "[]") at[key] = [value];
            else if (suffix === "{}") at[key] = { FUZZ_VALUE: value };
            else if (suffix === "{key}") at[key] = { [value]: key === "profiles" ? 1 : "fuzz" };
            else at[key] = value;
            return;
        }
        if (suffix === "[]") {
            at[key] = Array.isArray(at[key]) && at[key].length > 0 ? at[key] : [{}];
            at = at[key][0];
        } else {
            at[key] = at[key] ?? {};
            at = at[key];
        }
    });
    return args;
}
