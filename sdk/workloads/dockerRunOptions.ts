import { isIP } from "node:net";
import { GpuConfigError } from "../errors";
import { quote } from "../shell/shellScript";
import { validateChoice } from "../validate";

/**
 * The `docker run` options a GPU service needs, named as @pulumi/docker's `Container` names them
 * (ports.internal/external/ip/protocol, volumes.containerPath/hostPath/volumeName/readOnly, ulimits, shmSize in MB,
 * ipcMode, networkMode, workingDir, entrypoints, healthcheck, logDriver/logOpts), so users find what they know.
 */
export interface DockerRunOptions {
    ports?: DockerPortSpec[];
    volumes?: DockerVolumeSpec[];
    /** Container path → tmpfs mount options (`size=64m,mode=1777`), as `--tmpfs`. */
    tmpfs?: Record<string, string>;
    /** `bridge`, `host`, `none`, or a named network (`docker network create` it first). */
    networkMode?: string;
    /** `private`, `shareable`, `host` (NGC's PyTorch containers ask for it) or `container:<name>`. */
    ipcMode?: string;
    /** Size of /dev/shm in MiB (Docker's default is 64, too small for PyTorch's DataLoader workers). */
    shmSize?: number;
    ulimits?: DockerUlimitSpec[];
    /** `uid`, `uid:gid`, `name` or `name:group`. */
    user?: string;
    workingDir?: string;
    /** The entrypoint: its first word becomes `--entrypoint`, the rest go before `args`. */
    entrypoints?: string[];
    labels?: Record<string, string>;
    healthcheck?: DockerHealthcheckSpec;
    logDriver?: string;
    logOpts?: Record<string, string>;
}

export const PORT_PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

export interface DockerPortSpec {
    /** Container port. */
    internal: number;
    /** Host port; default: the same as `internal`. */
    external?: number;
    /** Host address to bind; default all addresses. */
    ip?: string;
    /** Default `tcp`. */
    protocol?: PortProtocol;
    /** Publish this many consecutive ports from `internal` and `external` (a WebRTC UDP range); default 1. */
    count?: number;
}

export interface DockerVolumeSpec {
    /** Absolute path in the container. */
    containerPath: string;
    /** Absolute host path to bind-mount (it must exist: `--mount` never creates it, unlike `-v`). */
    hostPath?: string;
    /** A named volume (created by Docker when missing). Neither `hostPath` nor `volumeName`: an anonymous volume. */
    volumeName?: string;
    readOnly?: boolean;
}

export interface DockerUlimitSpec {
    /** `memlock`, `stack`, `nofile`, … */
    name: string;
    /** -1 for unlimited. */
    soft: number;
    hard: number;
}

export interface DockerHealthcheckSpec {
    /** `["CMD", "curl", "-f", "http://localhost/"]`, `["CMD-SHELL", "…"]` or `["NONE"]`, as in compose. */
    tests: string[];
    /** Go durations (`30s`, `1m30s`). */
    interval?: string;
    timeout?: string;
    startPeriod?: string;
    retries?: number;
}

const ULIMITS = ["core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$/;
const DURATION = /^(\d+(ns|us|ms|s|m|h))+$/;
const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:]*)$/;

function port(value: unknown, field: string): number {
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535)
        throw new GpuConfigError(field, `${JSON.stringify(value)} is not a port`, "give a whole number from 1 to 65535");
    return value as number;
}

/** An absolute path a `--mount`/`--tmpfs` CSV field can carry unquoted: no comma, quote, colon or line break. */
function mountPath(value: unknown, field: string): string {
    if (typeof value !== "string" || !/^\/[^,"':\n\r\0]*$/.test(value) || value.split("/").includes(".."))
        throw new GpuConfigError(field, `${JSON.stringify(value)} is not an absolute path`, "give an absolute path without , \" ' : or ..");
    return value;
}

function text(value: unknown, pattern: RegExp, field: string, what: string): string {
    if (typeof value !== "string" || !pattern.test(value)) throw new GpuConfigError(field, `${JSON.stringify(value)} is not ${what}`, `use ${what}`);
    return value;
}

/** A mount target as Docker compares them: `/data/` and `/data` are one mount point ("Duplicate mount point"). */
function mountKey(path: string): string {
    return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

function mapEntries(map: Record<string, string> | undefined, field: string): [string, string][] {
    return Object.entries(map ?? {}).map(([k, v]) => {
        text(k, KEY, `${field}.${k}`, "a key of letters, digits and . _ / -");
        if (typeof v !== "string" || /[\n\r\0]/.test(v)) throw new GpuConfigError(`${field}.${k}`, "holds a line break", "give one line");
        return [k, v];
    });
}

/**
 * The `docker run` arguments of the options, in a fixed order, each value validated and refused naming its field
 * (`ports[1].external`). Returns the arguments before the image, and the entrypoint's extra words that go after it.
 */
export function dockerRunArguments(o: DockerRunOptions, field = (k: string) => k): { before: string[]; afterImage: string[] } {
    const before: string[] = [];
    // Docker drops published ports on the host network with only a warning: the mapping the user wrote is gone.
    if ((o.ports ?? []).length > 0 && o.networkMode === "host")
        throw new GpuConfigError(
            field("ports"),
            "published ports are discarded with networkMode host",
            "remove ports (the container's ports are the host's), or use another network",
        );
    // Host ports taken so far, by protocol: two bindings of one port fail at start ("port is already allocated").
    const published: { ip: string | undefined; protocol: string; from: number; to: number; by: string }[] = [];
    (o.ports ?? []).forEach((p, i) => {
        const f = `${field("ports")}[${i}]`;
        const internal = port(p.internal, `${f}.internal`);
        const external = port(p.external ?? internal, `${f}.external`);
        const count = p.count ?? 1;
        if (!Number.isInteger(count) || count < 1 || internal + count - 1 > 65535 || external + count - 1 > 65535)
            throw new GpuConfigError(`${f}.count`, `${JSON.stringify(p.count)} ports do not fit`, "give a count from 1 that keeps both ranges within 65535");
        const protocol = validateChoice(p.protocol ?? "tcp", PORT_PROTOCOLS, `${f}.protocol`);
        const ip = p.ip === undefined ? undefined : text(p.ip, IP, `${f}.ip`, "an IPv4 or IPv6 address");
        if (ip !== undefined && isIP(ip) === 0)
            throw new GpuConfigError(`${f}.ip`, `${JSON.stringify(ip)} is not an IPv4 or IPv6 address`, "use an IPv4 or IPv6 address");
        const taken = published.find(
            (q) => q.protocol === protocol && (q.ip === undefined || ip === undefined || q.ip === ip) && q.from <= external + count - 1 && external <= q.to,
        );
        if (taken !== undefined)
            throw new GpuConfigError(
                `${f}.external`,
                `${Math.max(external, taken.from)}/${protocol} is already published by ${taken.by}`,
                "give each host port (and address) once",
            );
        published.push({ ip, protocol, from: external, to: external + count - 1, by: f });
        const host = ip === undefined ? "" : ip.includes(":") ? `[${ip}]:` : `${ip}:`;
        const range = (start: number) => (count === 1 ? `${start}` : `${start}-${start + count - 1}`);
        before.push("--publish", `${host}${range(external)}:${range(internal)}/${protocol}`);
    });
    const mounted = new Map<string, string>();
    const mountOnce = (path: string, at: string, by: string) => {
        const other = mounted.get(mountKey(path));
        if (other !== undefined) throw new GpuConfigError(at, `${JSON.stringify(path)} is already mounted by ${other}`, "mount each container path once");
        mounted.set(mountKey(path), by);
    };
    (o.volumes ?? []).forEach((v, i) => {
        const f = `${field("volumes")}[${i}]`;
        const target = mountPath(v.containerPath, `${f}.containerPath`);
        mountOnce(target, `${f}.containerPath`, f);
        if (v.hostPath !== undefined && v.volumeName !== undefined)
            throw new GpuConfigError(f, "sets both hostPath and volumeName", "give one: hostPath for a bind mount, volumeName for a named volume");
        const source =
            v.hostPath !== undefined
                ? `type=bind,source=${mountPath(v.hostPath, `${f}.hostPath`)}`
                : v.volumeName !== undefined
                  ? `type=volume,source=${text(v.volumeName, NAME, `${f}.volumeName`, "a volume name of letters, digits and _ . -")}`
                  : "type=volume";
        before.push("--mount", `${source},target=${target}${v.readOnly === true ? ",readonly" : ""}`);
    });
    for (const [path, opts] of Object.entries(o.tmpfs ?? {})) {
        mountPath(path, `${field("tmpfs")}.${path}`);
        mountOnce(path, `${field("tmpfs")}.${path}`, `${field("tmpfs")}.${path}`);
        text(opts, /^[A-Za-z0-9=,._-]*$/, `${field("tmpfs")}.${path}`, "tmpfs options such as size=64m,mode=1777");
        before.push("--tmpfs", opts === "" ? path : `${path}:${opts}`);
    }
    if (o.networkMode !== undefined) before.push("--network", text(o.networkMode, NAME, field("networkMode"), "bridge, host, none or a network name"));
    if (o.ipcMode !== undefined)
        before.push(
            "--ipc",
            text(
                o.ipcMode,
                /^(private|shareable|host|none|container:[A-Za-z0-9][A-Za-z0-9_.-]*)$/,
                field("ipcMode"),
                "private, shareable, host, none or container:<name>",
            ),
        );
    if (o.shmSize !== undefined) {
        if (!Number.isInteger(o.shmSize) || o.shmSize < 1)
            throw new GpuConfigError(field("shmSize"), `${JSON.stringify(o.shmSize)} is not a size in MiB`, "give a whole number of MiB, e.g. 8192");
        // Docker sizes only a container's own /dev/shm: with the host's, none or another container's, the size is dropped.
        const shared = /^(host|none|container:.*)$/.exec(o.ipcMode ?? "");
        if (shared !== null)
            throw new GpuConfigError(
                field("shmSize"),
                `is ignored with ${field("ipcMode")} ${shared[0]}`,
                `remove shmSize, or use ${field("ipcMode")} private or shareable`,
            );
        before.push("--shm-size", `${o.shmSize}m`);
    }
    (o.ulimits ?? []).forEach((u, i) => {
        const f = `${field("ulimits")}[${i}]`;
        validateChoice(u.name, ULIMITS, `${f}.name`);
        const first = (o.ulimits ?? []).findIndex((w) => w.name === u.name);
        if (first < i)
            throw new GpuConfigError(`${f}.name`, `${JSON.stringify(u.name)} is already set by ${field("ulimits")}[${first}]`, "give each limit once");
        for (const k of ["soft", "hard"] as const)
            if (!Number.isInteger(u[k]) || u[k] < -1)
                throw new GpuConfigError(`${f}.${k}`, `${JSON.stringify(u[k])} is not a limit`, "give a whole number, or -1 for unlimited");
        // runc refuses a soft limit above the hard one ("ulimit soft limit must be less than or equal to hard limit").
        const limit = (n: number) => (n === -1 ? Infinity : n);
        if (limit(u.soft) > limit(u.hard))
            throw new GpuConfigError(
                `${f}.soft`,
                `${u.soft === -1 ? "-1 (unlimited)" : u.soft} is above hard (${u.hard})`,
                "give a soft limit at or under the hard one",
            );
        before.push("--ulimit", `${u.name}=${u.soft}:${u.hard}`);
    });
    if (o.user !== undefined)
        before.push("--user", text(o.user, /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/, field("user"), "uid, uid:gid, name or name:group"));
    if (o.workingDir !== undefined) before.push("--workdir", mountPath(o.workingDir, field("workingDir")));
    const entry = o.entrypoints ?? [];
    if (o.entrypoints !== undefined && entry.length === 0) before.push("--entrypoint", "");
    if (entry.length > 0) before.push("--entrypoint", entry[0]);
    for (const [k, v] of mapEntries(o.labels, field("labels"))) {
        if (k.startsWith("nvidia-gpu.pulumi.com/")) throw new GpuConfigError(`${field("labels")}.${k}`, "is this library's own label", "use another key");
        before.push("--label", `${k}=${v}`);
    }
    const h = o.healthcheck;
    if (h !== undefined) {
        const f = field("healthcheck");
        const [kind, ...rest] = h.tests ?? [];
        if (kind === "NONE" && rest.length === 0) before.push("--no-healthcheck");
        else {
            // docker run takes one shell command (--health-cmd runs it as CMD-SHELL): the exec form is quoted into one.
            if (!((kind === "CMD-SHELL" && rest.length === 1) || (kind === "CMD" && rest.length > 0)))
                throw new GpuConfigError(
                    `${f}.tests`,
                    `${JSON.stringify(h.tests)} is not a health check`,
                    'give ["CMD", "curl", "-f", "http://localhost/"], ["CMD-SHELL", "curl -f http://localhost/ || exit 1"] or ["NONE"]',
                );
            rest.forEach((w, i) => {
                if (typeof w !== "string" || /[\n\r\0]/.test(w)) throw new GpuConfigError(`${f}.tests[${i + 1}]`, "holds a line break", "give one line");
            });
            before.push("--health-cmd", kind === "CMD" ? rest.map(quote).join(" ") : rest[0]);
            for (const [k, flag] of [
                ["interval", "--health-interval"],
                ["timeout", "--health-timeout"],
                ["startPeriod", "--health-start-period"],
            ] as const)
                if (h[k] !== undefined) before.push(flag, text(h[k], DURATION, `${f}.${k}`, "a duration such as 30s or 1m30s"));
            if (h.retries !== undefined) {
                if (!Number.isInteger(h.retries) || h.retries < 0)
                    throw new GpuConfigError(`${f}.retries`, `${JSON.stringify(h.retries)} is not a count`, "give a whole number");
                before.push("--health-retries", `${h.retries}`);
            }
        }
    }
    if (o.logDriver !== undefined) before.push("--log-driver", text(o.logDriver, NAME, field("logDriver"), "a log driver name such as json-file or local"));
    for (const [k, v] of mapEntries(o.logOpts, field("logOpts"))) before.push("--log-opt", `${k}=${v}`);
    for (const [i, word] of entry.entries()) if (/\0/.test(word)) throw new GpuConfigError(`${field("entrypoints")}[${i}]`, "holds NUL", "remove it");
    return { before, afterImage: entry.slice(1) };
}
