/**
 * The scale suite (issue 24): N GpuNodes through the real Pulumi engine (tools/setup-engine.sh: the CLI, the Node.js
 * language host, the command provider stand-in, which keeps one SSH connection per command open as pulumi-command
 * 1.2.1 does), on N lightweight SSH nodes: each an OpenSSH sshd on 127.0.1.<i>:2422 in mount and PID namespaces of
 * its own, over an overlay root whose apt/dpkg/systemctl/docker/nvidia-ctk/... are logging stand-ins
 * (bench/scale/README.md). Per size: preview, first up, no-op up and destroy wall time, beside an empty program's up
 * (the engine's floor); state size; peak RSS of the Node.js program and of the provider; SSH connections and sshd
 * processes open; bytes the CLI wrote (the file backend). Writes bench/results/scale-<date>.md.
 *   SCALE_SIZES=1,4,10 npm run bench:scale       (default 1,4,10,50,100,200)
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { utils } from "ssh2";
import { Stack, stateDir, userProject } from "../test/pulumi/engine";

const ROOT = path.resolve(__dirname, "..");
const WORK = path.join(ROOT, ".tmp/scale");
const SIZES = (process.env.SCALE_SIZES ?? "1,4,10,50,100,200").split(",").map(Number);
const FINGERPRINT = "C95B321B61E88C1809C4F759DDCAE044F796ECB0"; // what the gpg stand-in reports
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const address = (i: number) => `127.0.1.${i + 1}`;

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { GpuNode } from "pulumi-nvidia-gpu";
const cfg = new pulumi.Config();
const hosts = cfg.requireObject<Array<{ host: string; hostKey: string }>>("hosts");
const privateKey = cfg.requireSecret("privateKey");
hosts.forEach((h, i) => {
    new GpuNode(\`gpu-\${i}\`, {
        connection: { host: h.host, port: 2422, privateKey, hostKey: h.hostKey },
        toolkit: { version: "1.20.0-1", repoUrl: "http://127.0.0.1:18401", keyFingerprint: "${FINGERPRINT}" },
    });
});
`;
const EMPTY = `import * as pulumi from "@pulumi/pulumi";\nexport const floor = pulumi.output(1);\n`;

interface Node {
    host: string;
    hostKey: string;
    process: ChildProcess;
}

function startNode(i: number, base: string): Node {
    const dir = path.join(WORK, "nodes", String(i));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const key = utils.generateKeyPairSync("ed25519");
    fs.writeFileSync(path.join(dir, "ssh_host_ed25519_key"), key.private, { mode: 0o600 });
    const log = fs.openSync(path.join(dir, "sshd.log"), "w");
    const child = spawn(
        "unshare",
        ["--mount", "--pid", "--fork", "--kill-child", "--propagation", "private", "sh", path.join(ROOT, "bench/scale/node.sh"), base, dir, address(i)],
        { stdio: ["ignore", log, log] },
    );
    return { host: address(i), hostKey: key.public.trim().split(/\s+/).slice(0, 2).join(" "), process: child };
}

function startNodes(count: number, base: string): Node[] {
    return Array.from({ length: count }, (_, i) => startNode(i, base));
}

/**
 * Waits for every node's sshd; a node whose sshd did not start is started once more, and says why it stopped (at 100
 * nodes one sshd of a run once exited with "Unable to load host key ... error in libcrypto"; its restart came up).
 */
async function waitForNodes(nodes: Node[], base: string): Promise<void> {
    await Promise.all(
        nodes.map(async (n, i) => {
            try {
                await waitForPort(n.host);
            } catch {
                const log = fs
                    .readFileSync(path.join(WORK, "nodes", String(i), "sshd.log"), "utf8")
                    .trim()
                    .split("\n")
                    .slice(-2)
                    .join(" / ");
                console.log(`node ${n.host}: sshd did not start (${log}); starting it once more`);
                n.process.kill("SIGKILL");
                nodes[i] = startNode(i, base);
                await waitForPort(nodes[i].host);
            }
        }),
    );
}

function accepts(host: string): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
        const s = net.connect(2422, host, () => (s.destroy(), resolve(true)));
        s.on("error", () => resolve(false));
    });
}

async function waitForPort(host: string): Promise<void> {
    for (let n = 0; n < 200; n++) {
        if (await accepts(host)) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`sshd on ${host}:2422 did not start`);
}

async function stopNodes(nodes: Node[]): Promise<void> {
    // unshare ignores SIGTERM while it waits; killed, it takes sshd (--kill-child) and with it the namespaces.
    for (const n of nodes) n.process.kill("SIGKILL");
    await Promise.all(nodes.map((n) => (n.process.exitCode !== null ? Promise.resolve() : new Promise((r) => n.process.once("exit", r)))));
}

/** Peaks seen while one CLI command runs, sampled from /proc every 200 ms. */
interface Sample {
    programRssMiB: number;
    providerRssMiB: number;
    sshdProcesses: number;
    connections: number;
    backendBytes: number;
}

function procs(): Array<{ pid: string; cmd: string; rssKiB: number; comm: string }> {
    const out = [];
    for (const pid of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(pid)) continue;
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
            const comm = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
            const rss = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
            out.push({ pid, cmd, comm, rssKiB: rss ? Number(rss[1]) : 0 });
        } catch {
            // exited while read
        }
    }
    return out;
}

/** Server-side TCP connections on port 2422 in ESTABLISHED state. */
function connections(): number {
    let n = 0;
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        if (!fs.existsSync(file)) continue;
        for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
            const f = line.trim().split(/\s+/);
            if (f.length > 3 && f[1].endsWith(":0976") && f[3] === "01") n++;
        }
    }
    return n;
}

function sample(cliPid: number | undefined, peak: Sample): void {
    const all = procs();
    const mib = (kib: number) => kib / 1024;
    const program = all.filter((p) => p.comm === "node" && /@pulumi\/pulumi\/cmd\/run/.test(p.cmd)).reduce((s, p) => s + p.rssKiB, 0);
    const provider = all.filter((p) => /pulumi-resource-command/.test(p.cmd)).reduce((s, p) => s + p.rssKiB, 0);
    peak.programRssMiB = Math.max(peak.programRssMiB, mib(program));
    peak.providerRssMiB = Math.max(peak.providerRssMiB, mib(provider));
    peak.sshdProcesses = Math.max(peak.sshdProcesses, all.filter((p) => p.comm === "sshd" && p.rssKiB > 0).length); // not zombies
    peak.connections = Math.max(peak.connections, connections());
    if (cliPid !== undefined) {
        try {
            const io = /write_bytes: (\d+)/.exec(fs.readFileSync(`/proc/${cliPid}/io`, "utf8"));
            if (io) peak.backendBytes = Math.max(peak.backendBytes, Number(io[1]));
        } catch {
            // exited
        }
    }
}

interface OpResult extends Sample {
    seconds: number;
    stdout: string;
}

/** Runs `pulumi ARGS` for the stack, sampling /proc while it runs. */
function runOp(stack: Stack, args: string[]): Promise<OpResult> {
    return new Promise((resolve, reject) => {
        const start = process.hrtime.bigint();
        const child = spawn("pulumi", [...args, "--stack", stack.name, "--non-interactive"], { cwd: stack.dir, env: stack.env });
        const peak: Sample = { programRssMiB: 0, providerRssMiB: 0, sshdProcesses: 0, connections: 0, backendBytes: 0 };
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setInterval(() => sample(child.pid, peak), 200);
        child.on("exit", (code) => {
            clearInterval(timer);
            const result = { ...peak, seconds: seconds(start), stdout };
            fs.writeFileSync(path.join(WORK, `last-${args[0]}.log`), `${stdout}\n${stderr}`);
            if (code !== 0) reject(new Error(`pulumi ${args.join(" ")} exited ${code}: see ${path.join(WORK, `last-${args[0]}.log`)}\n${stdout.slice(-1500)}`));
            else resolve(result);
        });
    });
}

/** Bytes of the exported state per property of the step commands (inputs and outputs together), and the rest. */
function breakdown(state: string, nodes: number): Record<string, number> {
    const parsed = JSON.parse(state) as { deployment: { resources: Array<Record<string, unknown>> } };
    const out: Record<string, number> = {};
    const add = (k: string, v: unknown) => (out[k] = (out[k] ?? 0) + Buffer.byteLength(JSON.stringify(v ?? null)) / nodes);
    for (const r of parsed.deployment.resources) {
        if (r.type !== "command:remote:Command") {
            add("other resources", r);
            continue;
        }
        const rest = { ...r };
        for (const side of ["inputs", "outputs"] as const) {
            for (const [k, v] of Object.entries((r[side] ?? {}) as Record<string, unknown>)) add(`command ${k}`, v);
            delete rest[side];
        }
        add("command metadata (urn, parent, dependencies, ...)", rest);
    }
    return out;
}

interface SizeResult {
    breakdown: Record<string, number>;
    size: number;
    floor: number;
    steps: number;
    preview: OpResult;
    up: OpResult;
    noop: OpResult;
    destroy: OpResult;
    stateBytes: number;
    sshdAfter: number;
    connectionsAfter: number;
}

async function measure(size: number, base: string, privateKey: string): Promise<SizeResult> {
    const floorStack = new Stack(userProject(`scale-floor-${size}`, EMPTY), "floor", stateDir(`scale-floor-${size}`));
    floorStack.init({});
    const floor = (await runOp(floorStack, ["up", "--yes", "--skip-preview"])).seconds;
    await runOp(floorStack, ["destroy", "--yes", "--skip-preview"]);
    floorStack.remove();

    for (let i = 0; i < size; i++) if (await accepts(address(i))) throw new Error(`${address(i)}:2422 is already taken: a node of an earlier run?`);
    const nodes = startNodes(size, base);
    try {
        await waitForNodes(nodes, base);
        const dir = stateDir(`scale-${size}`);
        fs.rmSync(dir, { recursive: true, force: true });
        const stack = new Stack(userProject(`scale-${size}`, PROGRAM), "scale", dir);
        stack.init({}, { privateKey });
        stack.run(["config", "set", "hosts", "--", JSON.stringify(nodes.map(({ host, hostKey }) => ({ host, hostKey })))]);
        const preview = await runOp(stack, ["preview"]);
        const up = await runOp(stack, ["up", "--yes", "--skip-preview"]);
        const state = stack.exportState();
        fs.writeFileSync(path.join(WORK, `state-${size}.json`), state); // kept for a closer look at what the state holds
        const steps = (state.match(/"type": "command:remote:Command"/g) ?? []).length;
        const noop = await runOp(stack, ["up", "--yes", "--skip-preview"]);
        if (!/unchanged/.test(noop.stdout) || /[0-9]+ (?:to )?(?:update|create|replace)/.test(noop.stdout.split("Resources:")[1] ?? ""))
            throw new Error(`the no-op up changed something:\n${noop.stdout.slice(-3000)}`);
        const destroy = await runOp(stack, ["destroy", "--yes", "--skip-preview"]);
        const after: Sample = { programRssMiB: 0, providerRssMiB: 0, sshdProcesses: 0, connections: 0, backendBytes: 0 };
        sample(undefined, after);
        stack.remove();
        return {
            size,
            floor,
            steps,
            preview,
            up,
            noop,
            destroy,
            stateBytes: Buffer.byteLength(state),
            breakdown: breakdown(state, size),
            sshdAfter: after.sshdProcesses,
            connectionsAfter: after.connections,
        };
    } finally {
        await stopNodes(nodes);
    }
}

const f1 = (n: number) => n.toFixed(1);
const kib = (n: number) => (n / 1024).toFixed(1);

function report(results: SizeResult[], host: string): string {
    const rows = results.map((r) =>
        [
            r.size,
            r.steps,
            f1(r.floor),
            f1(r.preview.seconds),
            f1(r.up.seconds),
            f1(r.noop.seconds),
            f1(r.destroy.seconds),
            kib(r.stateBytes),
            kib(r.stateBytes / r.size),
            f1(Math.max(r.preview.programRssMiB, r.up.programRssMiB, r.noop.programRssMiB)),
            f1(Math.max(r.up.providerRssMiB, r.destroy.providerRssMiB)),
            `${r.up.connections} / ${r.up.sshdProcesses - r.size}`,
            `${r.destroy.connections} / ${r.destroy.sshdProcesses - r.size}`,
            `${r.connectionsAfter} / ${r.sshdAfter}`,
            `${(r.up.backendBytes / 1048576).toFixed(1)} / ${(r.noop.backendBytes / 1048576).toFixed(1)} / ${(r.destroy.backendBytes / 1048576).toFixed(1)}`,
        ].join(" | "),
    );
    return [
        "| nodes | commands | empty up (floor) s | preview s | first up s | no-op up s | destroy s | state KiB | state KiB/node | program peak RSS MiB | provider peak RSS MiB | up: SSH conns / sshd conn. processes at the end | destroy: same | after: conns / sshd | MiB written by the CLI (up / no-op / destroy) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ...rows.map((r) => `| ${r} |`),
        "",
        `Per node, bytes of the exported state at ${results[0]?.size} node(s), by property of the step commands (inputs and outputs together):`,
        "",
        "| part | bytes per node |",
        "|---|---|",
        ...Object.entries(results[0]?.breakdown ?? {})
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `| ${k} | ${Math.round(v)} |`),
        "",
        `Machine: ${host}.`,
    ].join("\n");
}

async function main(): Promise<void> {
    const openssh = execFileSync("sh", [path.join(ROOT, "bench/scale/setup.sh")], { encoding: "utf8" }).trim();
    fs.mkdirSync(WORK, { recursive: true });
    const client = utils.generateKeyPairSync("ed25519");
    const base = path.join(WORK, "base");
    execFileSync("sh", [path.join(ROOT, "bench/scale/base.sh"), base, openssh, client.public.trim()]);
    const results: SizeResult[] = [];
    for (const size of SIZES) {
        const load = os.loadavg()[0];
        const r = await measure(size, base, client.private);
        results.push(r);
        console.log(report([r], "").split("\n")[2]);
        // The machine is shared: the load beside each size says how far its times are from an idle machine's.
        console.log(`size ${size}: 1-minute load average ${load.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after`);
    }
    const host = `${execFileSync("nproc", { encoding: "utf8" }).trim()} cores, ${execFileSync("uname", ["-r"], { encoding: "utf8" }).trim()}`;
    const table = report(results, host);
    console.log(table);
    const out = path.join(ROOT, "bench/results", `scale-${new Date().toISOString().slice(0, 10)}${process.env.SCALE_SUFFIX ?? ""}.md`);
    fs.writeFileSync(`${out}.table`, `${table}\n`);
    console.log(`table written to ${out}.table`);
}

main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
});
