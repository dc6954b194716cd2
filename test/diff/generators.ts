import fc from "fast-check";
import * as TOML from "@iarna/toml";
import { emitGoToml } from "../../sdk/toml/goTomlEmitter";
import { TOOLKIT_CONFIG_KEYS } from "../../sdk/toolkit/toolkitConfig";

/**
 * fast-check arbitraries for realistic inputs of each target, and nvidia-ctk's flags. Samples are drawn
 * with a fixed seed (DIFF_SEED overrides it), so a failing case is the same on every run and machine.
 */
export const SEED = Number(process.env.DIFF_SEED ?? 20261129);

export function sample<T>(arb: fc.Arbitrary<T>, count: number, salt: number): T[] {
    return fc.sample(arb, { seed: SEED + salt, numRuns: count });
}

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
/** A record whose every key is optional, with undefined values dropped. */
const partial = <T extends Record<string, fc.Arbitrary<unknown>>>(model: T) =>
    fc.record(model, { requiredKeys: [] }).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));

const runtimeName = fc.constantFrom("nvidia", "nvidia", "nvidia", "nvidia-cdi", "gpu");
const runtimePath = fc.constantFrom("/usr/bin/nvidia-container-runtime", "/usr/local/nvidia/toolkit/nvidia-container-runtime");

/** `runtime configure` flags: default, CDI and custom names and paths in every combination. */
export function runtimeFlags(absolutePath: boolean): fc.Arbitrary<string[]> {
    return fc
        .record({
            setAsDefault: fc.boolean(),
            cdi: fc.boolean(),
            name: opt(runtimeName),
            path: opt(absolutePath ? runtimePath : fc.constantFrom("nvidia-container-runtime", "/usr/bin/nvidia-container-runtime")),
        })
        .map((f) => [
            ...(f.setAsDefault ? ["--set-as-default"] : []),
            ...(f.cdi ? ["--cdi.enabled"] : []),
            ...(f.name ? [`--nvidia-runtime-name=${f.name}`] : []),
            ...(f.path ? [`--nvidia-runtime-path=${f.path}`] : []),
        ]);
}

// ---------- Docker daemon.json ----------

const dockerRuntime = partial({
    path: fc.constantFrom(
        "/usr/bin/crun",
        "/usr/local/bin/runsc",
        "/opt/kata/bin/kata-runtime",
        "nvidia-container-runtime",
        "/usr/bin/nvidia-container-runtime",
    ),
    runtimeArgs: fc.array(fc.constantFrom("--debug", "--systemd-cgroup", "--platform=kvm"), { maxLength: 2 }),
    args: fc.constant([] as string[]),
}).map((r) => ({ path: "/usr/bin/crun", ...r }));

export const daemonJson: fc.Arbitrary<Record<string, unknown>> = partial({
    "exec-opts": fc.constantFrom(["native.cgroupdriver=systemd"], ["native.cgroupdriver=cgroupfs"]),
    "log-driver": fc.constantFrom("json-file", "journald", "local"),
    "log-opts": partial({ "max-size": fc.constantFrom("10m", "100m"), "max-file": fc.constantFrom("3", "5"), tag: fc.constant("{{.Name}}") }),
    "data-root": fc.constantFrom("/var/lib/docker", "/data/docker"),
    "storage-driver": fc.constantFrom("overlay2", "zfs", "btrfs"),
    features: fc.dictionary(fc.constantFrom("buildkit", "containerd-snapshotter", "cdi"), fc.boolean(), { maxKeys: 3 }),
    runtimes: fc.dictionary(fc.constantFrom("crun", "runsc", "kata", "nvidia", "nvidia-cdi", "gpu"), dockerRuntime, { maxKeys: 3 }),
    "default-runtime": fc.constantFrom("runc", "crun", "nvidia", "runsc"),
    "insecure-registries": fc.array(fc.constantFrom("registry.local:5000", "10.0.0.1:5000", "a<b>&c.example"), { maxLength: 2 }),
    "registry-mirrors": fc.array(fc.constantFrom("https://mirror.gcr.io", "https://m.example.com"), { maxLength: 2 }),
    mtu: fc.constantFrom(1450, 1500, 9000),
    "live-restore": fc.boolean(),
    "max-concurrent-downloads": fc.integer({ min: 1, max: 10 }),
    "default-ulimits": fc.constant({ nofile: { Name: "nofile", Hard: 65536, Soft: 65536 } }),
    "default-address-pools": fc.constant([{ base: "172.30.0.0/16", size: 24 }]),
    dns: fc.array(fc.constantFrom("1.1.1.1", "8.8.8.8"), { maxLength: 2 }),
    "shutdown-timeout": fc.constantFrom(15, 30),
    "userns-remap": fc.constant("default"),
    "cgroup-parent": fc.constant("docker.slice"),
    debug: fc.boolean(),
    "node-generic-resources": fc.constant(["NVIDIA-GPU=GPU-a1b2c3"]),
    experimental: fc.boolean(),
});

/** daemon.json text the way people leave it: 2 or 4 spaces, tabs, or one line; with or without a final newline. */
export const daemonJsonText: fc.Arbitrary<string> = fc
    .tuple(daemonJson, fc.constantFrom<string | number>(0, 2, 4, "\t"), fc.boolean())
    .map(([data, indent, newline]) => JSON.stringify(data, null, indent) + (newline ? "\n" : ""));

// ---------- containerd config.toml ----------

const v2Runtime = (kind: "runc" | "crun" | "kata" | "nvidia") =>
    partial({
        runtime_type: fc.constantFrom(kind === "kata" ? "io.containerd.kata.v2" : "io.containerd.runc.v2"),
        runtime_engine: fc.constant(""),
        runtime_root: fc.constant(""),
        privileged_without_host_devices: fc.boolean(),
        base_runtime_spec: fc.constant("/etc/containerd/cri-base.json"),
        pod_annotations: fc.constant(kind === "kata" ? ["io.katacontainers.*"] : []),
        options: partial({
            SystemdCgroup: fc.boolean(),
            BinaryName: fc.constant(kind === "crun" ? "/usr/bin/crun" : kind === "nvidia" ? "/usr/bin/nvidia-container-runtime" : "/usr/bin/runc"),
            Root: fc.constant(kind === "crun" ? "/run/crun" : "/run/containerd/runc"),
            NoPivotRoot: fc.boolean(),
        }),
    });

const v3Runtime = (kind: "runc" | "crun" | "kata" | "nvidia") =>
    partial({
        runtime_type: fc.constantFrom(kind === "kata" ? "io.containerd.kata.v2" : "io.containerd.runc.v2"),
        runtime_path: fc.constant(""),
        sandboxer: fc.constantFrom("podsandbox", "shim"),
        privileged_without_host_devices: fc.boolean(),
        pod_annotations: fc.constant(kind === "kata" ? ["io.katacontainers.*"] : []),
        container_annotations: fc.constant([] as string[]),
        options: partial({
            SystemdCgroup: fc.boolean(),
            BinaryName: fc.constant(kind === "crun" ? "/usr/bin/crun" : kind === "nvidia" ? "/usr/bin/nvidia-container-runtime" : "/usr/bin/runc"),
            IoGid: fc.constant(0),
        }),
    });

const runtimesOf = (entry: typeof v2Runtime) =>
    partial({
        runc: entry("runc"),
        crun: entry("crun"),
        "kata-qemu": entry("kata"),
        nvidia: entry("nvidia"),
    });

const defaultRuntimeName = fc.constantFrom("runc", "runc", "crun", "nvidia");

/** A containerd 1.x-style (config version 2) file, as kubeadm, kind and distributions write it. */
export const containerdV2: fc.Arbitrary<Record<string, unknown>> = fc
    .record({
        top: partial({
            root: fc.constantFrom("/var/lib/containerd", "/data/containerd"),
            state: fc.constant("/run/containerd"),
            oom_score: fc.constantFrom(0, -999),
            disabled_plugins: fc.constantFrom([] as string[], ["io.containerd.internal.v1.tracing"]),
            grpc: partial({ max_recv_message_size: fc.constant(16777216) }),
            timeouts: fc.constant({ "io.containerd.timeout.shim.cleanup": "5s" }),
        }),
        cri: partial({
            sandbox_image: fc.constantFrom("registry.k8s.io/pause:3.9", "mcr.microsoft.com/oss/kubernetes/pause:3.6"),
            enable_cdi: fc.boolean(),
            cdi_spec_dirs: fc.constant(["/etc/cdi", "/var/run/cdi"]),
            max_container_log_line_size: fc.constant(16384),
            containerd: partial({
                snapshotter: fc.constantFrom("overlayfs", "native"),
                default_runtime_name: defaultRuntimeName,
                discard_unpacked_layers: fc.boolean(),
                runtimes: runtimesOf(v2Runtime),
            }),
            registry: fc.oneof(
                fc.constant({ config_path: "/etc/containerd/certs.d" }),
                fc.constant({ mirrors: { "docker.io": { endpoint: ["https://mirror.example.com"] } } }),
            ),
            cni: partial({ bin_dir: fc.constant("/opt/cni/bin"), conf_dir: fc.constant("/etc/cni/net.d") }),
        }),
    })
    .map(({ top, cri }) => ({ version: 2, ...top, plugins: { "io.containerd.grpc.v1.cri": cri } }));

/** A containerd 2.x-style file: version 3 (2.0–2.2) or 4 (2.3+, same CRI layout). */
export const containerdV3: fc.Arbitrary<Record<string, unknown>> = fc
    .record({
        version: fc.constantFrom(3, 3, 4),
        top: partial({
            root: fc.constantFrom("/var/lib/containerd", "/data/containerd"),
            state: fc.constant("/run/containerd"),
            oom_score: fc.constantFrom(0, -999),
        }),
        images: partial({
            snapshotter: fc.constantFrom("overlayfs", "native"),
            pinned_images: fc.constant({ sandbox: "registry.k8s.io/pause:3.10" }),
            registry: fc.constant({ config_path: "/etc/containerd/certs.d" }),
        }),
        runtime: partial({
            enable_cdi: fc.boolean(),
            cdi_spec_dirs: fc.constant(["/etc/cdi", "/var/run/cdi"]),
            containerd: partial({ default_runtime_name: defaultRuntimeName, runtimes: runtimesOf(v3Runtime) }),
        }),
        grpcCri: partial({ disable_tcp_service: fc.boolean() }),
    })
    .map(({ version, top, images, runtime, grpcCri }) => ({
        version,
        ...top,
        plugins: {
            "io.containerd.cri.v1.images": images,
            "io.containerd.cri.v1.runtime": runtime,
            ...(Object.keys(grpcCri).length > 0 && version === 3 ? { "io.containerd.grpc.v1.cri": grpcCri } : {}),
        },
    }));

/** containerd config text: nvidia-ctk's own layout, @iarna/toml's, or either with a comment header. */
export function containerdText(data: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
    return fc
        .tuple(data, fc.constantFrom("go", "iarna"), fc.boolean())
        .map(
            ([d, style, comment]) =>
                (comment ? "# managed by hand\n# keep: SystemdCgroup\n" : "") + (style === "go" ? emitGoToml(d) : TOML.stringify(d as TOML.JsonMap)),
        );
}

// ---------- CRI-O crio.conf ----------

const crioRuntime = (name: string) =>
    partial({
        runtime_path: fc.constantFrom(`/usr/bin/${name}`, `/usr/libexec/crio/${name}`, ""),
        runtime_type: fc.constantFrom("oci", "vm"),
        runtime_root: fc.constant(`/run/${name}`),
        runtime_config_path: fc.constant(`/etc/${name}/config.toml`),
        monitor_path: fc.constant("/usr/libexec/crio/conmon"),
        monitor_cgroup: fc.constant("pod"),
        monitor_env: fc.constant(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"]),
        allowed_annotations: fc.constant(["io.containers.trace-syscall"]),
        privileged_without_host_devices: fc.boolean(),
        default_annotations: fc.constant({ "run.oci.handler": name }),
    });

export const crioConf: fc.Arbitrary<Record<string, unknown>> = fc
    .record({
        runtime: partial({
            default_runtime: fc.constantFrom("runc", "crun", "nvidia", "kata"),
            cgroup_manager: fc.constantFrom("systemd", "cgroupfs"),
            conmon_cgroup: fc.constant("pod"),
            log_level: fc.constantFrom("info", "debug"),
            runtimes: partial({ runc: crioRuntime("runc"), crun: crioRuntime("crun"), kata: crioRuntime("kata"), nvidia: crioRuntime("nvidia") }),
        }),
        image: partial({ pause_image: fc.constant("registry.k8s.io/pause:3.10") }),
    })
    .map(({ runtime, image }) => ({ crio: { runtime, image } }));

export const crioText = fc
    .tuple(crioConf, fc.constantFrom("go", "iarna"))
    .map(([d, style]) => (style === "go" ? emitGoToml(d) : TOML.stringify(d as TOML.JsonMap)));

// ---------- toolkit config.toml --set ----------

const STRING_VALUES: Record<string, string[]> = {
    "nvidia-container-runtime.mode": ["cdi", "legacy", "csv", "auto", "jit-cdi"],
    "nvidia-container-runtime.log-level": ["debug", "info", "warning"],
    "nvidia-container-runtime.modes.cdi.default-kind": ["nvidia.com/gpu", "example.com/device"],
    "nvidia-container-runtime.modes.legacy.cuda-compat-mode": ["ldconfig", "mount", "disabled"],
    "nvidia-container-cli.user": ["root:video"],
    "supported-driver-capabilities": ["compute,utility", "all"],
};
const PATHS = ["/var/log/nvidia-container-runtime.log", "/dev/null", "/run/nvidia/driver", "/usr/local/bin/x y", 'C:\\odd "quoted"'];
const LISTS = ["crun:runc", "runc", "/etc/cdi,/var/run/cdi", "/etc/cdi:/var/run/cdi:/opt/cdi", "cdi.k8s.io/,nvidia.cdi.k8s.io/", "A=1,B=2"];

/** One `--set KEY[=VALUE]` token, valid for the key's type (bools also without a value). */
export const toolkitSet: fc.Arbitrary<string> = fc.constantFrom(...Object.keys(TOOLKIT_CONFIG_KEYS)).chain((key) => {
    const type = TOOLKIT_CONFIG_KEYS[key];
    if (type === "bool") return fc.constantFrom(key, `${key}=true`, `${key}=false`);
    if (type === "list") return fc.constantFrom(...LISTS).map((v) => `${key}=${v}`);
    return fc.constantFrom(...(STRING_VALUES[key] ?? PATHS)).map((v) => `${key}=${v}`);
});

export const toolkitSets: fc.Arbitrary<string[]> = fc.array(toolkitSet, { minLength: 1, maxLength: 4 }).map((sets) => sets.flatMap((s) => ["--set", s]));
