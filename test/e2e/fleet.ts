import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { utils } from "ssh2";
import { ResolvedConnection } from "../../components/connection";
import { SshHostReader } from "../../components/hostReader";
import { SshResult, sshExec } from "../../components/sshExec";
import { HostSnapshot, WatchedFile } from "../../sdk/host/snapshot";
import { SudoMode, invocationFor, stdinFor } from "../../sdk/steps/invocation";
import { PlanStep } from "../../sdk/steps/planStep";
import { REPO_ROOT } from "../helpers/paths";

/**
 * The e2e fleet: systemd containers reachable over SSH on 127.0.0.1 (how each node is started is written beside startNode below),
 * a loopback HTTP server for the NVIDIA-like repositories, and a runner that executes plan steps over SSH
 * exactly as the components do: the same scripts, wrapped by the same invocationFor, with the same stdin.
 */
export const REPO_DIR = process.env.E2E_REPO_DIR ?? path.join(REPO_ROOT, ".tmp/e2e-repo");
/** What stands in for a GPU on every node (the nodes have none): test/e2e/fleet/gpu-stand-ins/install.sh says what and why. */
const GPU_STAND_INS = path.join(REPO_ROOT, "test/e2e/fleet/gpu-stand-ins");
const KEY_DIR = path.join(REPO_ROOT, ".tmp/e2e-ssh");

/** One key pair for every node, made once. */
export function sshKey(): { privateKey: string; publicKey: string } {
    const file = path.join(KEY_DIR, "id_ed25519");
    if (!fs.existsSync(file)) {
        // Made whole in a folder of its own, then renamed into place: two suites starting at once (.ci/run's lanes)
        // keep whichever pair landed first, never one's private key with the other's public key.
        const pair = utils.generateKeyPairSync("ed25519");
        fs.mkdirSync(path.dirname(KEY_DIR), { recursive: true });
        const made = fs.mkdtempSync(`${KEY_DIR}.new-`);
        fs.writeFileSync(path.join(made, "id_ed25519"), pair.private, { mode: 0o600 });
        fs.writeFileSync(path.join(made, "id_ed25519.pub"), `${pair.public}\n`);
        try {
            fs.renameSync(made, KEY_DIR);
        } catch {
            fs.rmSync(made, { recursive: true, force: true }); // another suite's pair is in place: use it
        }
    }
    return { privateKey: fs.readFileSync(file, "utf8"), publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim() };
}

/** Runs the docker CLI on this machine (the fleet's daemon) and returns its stdout. */
export function docker(...args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * When the node's container last started, in seconds since the epoch: where a node's "boot" begins. The node's journal
 * outlives a container restart and its boot id is this machine's, so `journalctl --since @<this>` is the way to read
 * one boot's lines.
 */
export function nodeStartedAt(name: string): number {
    return Math.floor(Date.parse(docker("inspect", "-f", "{{.State.StartedAt}}", name).trim()) / 1000);
}

/** Runs a shell command inside a node as root, through docker exec (set-up only; plans go over SSH). */
export function nodeExec(name: string, command: string): string {
    return execFileSync("docker", ["exec", name, "sh", "-c", command], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export interface FleetNode {
    name: string;
    connection: ResolvedConnection;
}

/** How a node differs from the fleet's default container. */
export interface NodeOptions {
    /** A /proc as a real host has it: no masked paths (/proc/kcore…), /proc/sys writable, no AppArmor profile. */
    hostProc?: boolean;
    /** Host folders mounted into the node, as `docker run -v` takes them (`HOST:NODE`): caches kept outside the clone. */
    volumes?: string[];
    /**
     * `systemctl reboot` in the node restarts it, as a reboot restarts a host (Docker's restart policy: systemd ends the
     * container on a reboot); /run starts empty again, as it does on a host. Without it the node just stops.
     */
    restartOnReboot?: boolean;
}

/**
 * Starts a systemd node with sshd on 127.0.0.1:`port`, root key auth, and a sudo user `ops` whose sudo
 * asks for the password `ops-sudo-pw`. The connection pins the node's own host key.
 */
export function startNode(name: string, image: string, port: number, setup = "", options: NodeOptions = {}): FleetNode {
    docker("rm", "-f", name);
    // A rootless daemon's runc mounts a fresh proc in its user namespace; the kernel refuses that while the parent /proc
    // has Docker's masks over it (mount_too_revealing), and a real host's /proc has none.
    const hostProc = options.hostProc ? ["--security-opt", "systempaths=unconfined", "--security-opt", "apparmor=unconfined"] : [];
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--hostname",
        name,
        "--network",
        "host",
        "--cgroupns=host",
        "-v",
        "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        "--tmpfs",
        "/run",
        "--tmpfs",
        "/run/lock",
        "--cap-add",
        "ALL",
        "--cap-drop",
        "SYS_RESOURCE",
        "--security-opt",
        "seccomp=unconfined",
        ...hostProc,
        ...(options.volumes ?? []).flatMap((v) => ["-v", v]),
        ...(options.restartOnReboot ? ["--restart", "unless-stopped"] : []),
        "--device",
        "/dev/net/tun",
        image,
        "/lib/systemd/systemd",
    );
    const { publicKey } = sshKey();
    waitFor(() => /running|degraded/.test(tryExec(name, "systemctl is-system-running || true")), 90, `${name}: systemd did not come up`);
    docker("cp", GPU_STAND_INS, `${name}:/opt/e2e-gpu-stand-ins`);
    nodeExec(name, "sh /opt/e2e-gpu-stand-ins/install.sh");
    nodeExec(
        name,
        [
            "ssh-keygen -A >/dev/null 2>&1",
            `printf 'Port ${port}\\nListenAddress 127.0.0.1\\nPasswordAuthentication no\\n' > /etc/ssh/sshd_config.d/e2e.conf`,
            `mkdir -p /root/.ssh && printf '%s\\n' '${publicKey}' > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys`,
            "id ops >/dev/null 2>&1 || useradd -m -s /bin/sh ops",
            "echo 'ops:ops-sudo-pw' | chpasswd && usermod -aG sudo ops",
            `mkdir -p /home/ops/.ssh && printf '%s\\n' '${publicKey}' > /home/ops/.ssh/authorized_keys && chown -R ops:ops /home/ops/.ssh && chmod 600 /home/ops/.ssh/authorized_keys`,
            // sshd failed at boot (no host keys yet) and hit its start limit: clear that first.
            "systemctl reset-failed ssh.service; systemctl restart ssh",
            setup,
        ]
            .filter(Boolean)
            .join(" && "),
    );
    const hostKey = nodeExec(name, "cat /etc/ssh/ssh_host_ed25519_key.pub").trim().split(/\s+/).slice(0, 2).join(" ");
    const connection: ResolvedConnection = { host: "127.0.0.1", port, user: "root", privateKey: sshKey().privateKey, hostKey };
    waitFor(
        () => {
            try {
                execFileSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: "ignore" });
                return true;
            } catch {
                return false;
            }
        },
        30,
        `${name}: sshd did not listen on ${port}`,
    );
    return { name, connection };
}

function tryExec(name: string, command: string): string {
    try {
        return nodeExec(name, command);
    } catch {
        return "";
    }
}

function waitFor(check: () => boolean, seconds: number, message: string): void {
    for (let i = 0; i < seconds * 2; i++) {
        if (check()) return;
        execFileSync("sleep", ["0.5"]);
    }
    throw new Error(message);
}

export function stopNode(name: string): void {
    try {
        docker("rm", "-f", name);
    } catch {
        // already gone
    }
}

/** Serves `dir` over 127.0.0.1 HTTP (python3's http.server), like NVIDIA's repository host. */
export async function startRepoServer(dir: string, port: number): Promise<ChildProcess> {
    const server = spawn("python3", ["-m", "http.server", "--bind", "127.0.0.1", String(port), "--directory", dir], { stdio: "ignore" });
    for (let i = 0; i < 50; i++) {
        const up = await new Promise<boolean>((resolve) =>
            http
                .get(`http://127.0.0.1:${port}/`, (res) => {
                    res.resume();
                    resolve(true);
                })
                .on("error", () => resolve(false)),
        );
        if (up) return server;
        await new Promise((r) => setTimeout(r, 100));
    }
    server.kill();
    throw new Error(`repo server on ${port} did not start`);
}

export interface StepResult {
    name: string;
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs one shell command over SSH through the library's own ssh2 session code (pinned host key verified). */
export function sshRun(connection: ResolvedConnection, command: string, stdin?: string, timeoutMs = 600000): Promise<SshResult> {
    return sshExec(connection, command, { stdin, timeoutMs });
}

/** The first step that failed, if any. */
export function failed(results: StepResult[]): StepResult | undefined {
    return results.find((r) => r.code !== 0);
}

/** Applies steps in order as remote.Command would: stops at the first failing step. */
export async function applySteps(connection: ResolvedConnection, steps: PlanStep[], sudo: SudoMode = "root", sudoPassword?: string): Promise<StepResult[]> {
    const results: StepResult[] = [];
    for (const step of steps) {
        const invocation = invocationFor(step, connection.user, sudo, "stdin");
        const r = await sshRun(connection, invocation.command, stdinFor(invocation, sudoPassword));
        results.push({ name: step.name, ...r });
        if (r.code !== 0) break;
    }
    return results;
}

/** Undoes steps in reverse order, as `pulumi destroy` deletes dependents first. */
export async function undoSteps(connection: ResolvedConnection, steps: PlanStep[], sudo: SudoMode = "root", sudoPassword?: string): Promise<StepResult[]> {
    const results: StepResult[] = [];
    for (const step of [...steps].reverse()) {
        if (!step.undoScript) continue;
        const invocation = invocationFor({ ...step, script: step.undoScript }, connection.user, sudo, "argv");
        const r = await sshRun(connection, invocation.command, stdinFor(invocation, sudoPassword));
        results.push({ name: step.name, ...r });
    }
    return results;
}

/** The host snapshot through the library's own read-only reader (ssh2, pinned host key). */
export function snapshot(connection: ResolvedConnection, files: WatchedFile[]): Promise<HostSnapshot> {
    return new SshHostReader().snapshot(connection, files);
}

export function fingerprint(): string {
    return fs.readFileSync(path.join(REPO_DIR, "fingerprint"), "utf8").trim();
}

/** The four toolkit packages installed on a node (dpkg), as `name version` lines, sorted. */
export function versions(node: FleetNode): string[] {
    return nodeExec(
        node.name,
        "dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version}\\n' nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1 2>/dev/null || true",
    )
        .split("\n")
        .filter((l) => l.startsWith("ii "))
        .map((l) => l.slice(3).trim())
        .sort();
}

/** What `versions` gives with all four packages at `v`. */
export function atVersion(v: string): string[] {
    return [`libnvidia-container-tools ${v}`, `libnvidia-container1 ${v}`, `nvidia-container-toolkit ${v}`, `nvidia-container-toolkit-base ${v}`];
}
