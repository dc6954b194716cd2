/**
 * The real Pulumi engine on the e2e fleet (needs `npm run test:pulumi`'s setup: the engine built by
 * tools/setup-engine.sh, the Docker engine, the node images and the loopback repo). All ratios come from one run:
 *   1. `pulumi up` of one fresh node vs NVIDIA's documented manual commands on an identical fresh node;
 *   2. `pulumi up` of four fresh nodes (one stack) vs one;
 *   3. a no-op `pulumi up` of the converged node: wall time, SSH sessions, docker restarts;
 *   4. `pulumi preview` of 1, 10 and 50 GpuNodes (spread over 5 fleet hosts: previews only read): seconds,
 *      SSH sessions per node; and the state size per node, from the applied 1- and 4-node stacks.
 * Prints a table and writes bench/results/engine-<date>.md.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { quote } from "../sdk/shell/shellScript";
import { manualInstallScript } from "./manualInstall";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, sshRun, startNode, startRepoServer, stopNode } from "../test/e2e/fleet";
import { Stack, stateDir, userProject } from "../test/pulumi/engine";

const ROOT = path.resolve(__dirname, "..");
const PORT = 18098;
const DAEMON_JSON = '{\n  "bridge": "none",\n  "iptables": false,\n  "ip-masq": false\n}\n';
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** N GpuNodes, node i on host i mod hosts. */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { GpuNode } from "pulumi-nvidia-gpu";
const cfg = new pulumi.Config();
const hosts = cfg.requireObject<Array<{ port: number; hostKey: string }>>("hosts");
const count = cfg.requireNumber("count");
for (let i = 0; i < count; i++) {
    const h = hosts[i % hosts.length];
    new GpuNode(\`gpu-\${i}\`, {
        connection: { host: "127.0.0.1", port: h.port, privateKey: cfg.requireSecret("privateKey"), hostKey: h.hostKey },
        toolkit: { version: "1.20.0-1", repoUrl: cfg.require("repoUrl"), keyFingerprint: cfg.require("keyFingerprint") },
    });
}
`;

function freshNode(name: string, port: number): FleetNode {
    const node = startNode(
        name,
        "gpu-e2e-docker",
        port,
        `printf '%s' '${DAEMON_JSON.replace(/\n/g, " ")}' > /etc/docker/daemon.json && systemctl restart docker`,
    );
    nodeExec(name, "until docker info >/dev/null 2>&1; do sleep 1; done");
    return node;
}

/** SSH sessions sshd accepted so far (its journal). */
const sessions = (node: FleetNode) => Number(nodeExec(node.name, "journalctl -u ssh --no-pager -o cat | grep -c 'Accepted publickey' || true").trim());

function stackFor(name: string, nodes: FleetNode[], count: number): Stack {
    const stack = new Stack(userProject(`bench-${name}`, PROGRAM), "bench", stateDir(`bench-${name}`));
    stack.init({ count: String(count), repoUrl: `http://127.0.0.1:${PORT}`, keyFingerprint: fingerprint() }, { privateKey: sshKey().privateKey });
    stack.run(["config", "set", "--path", "hosts", "--", "[]"], true);
    stack.run(["config", "set", "hosts", "--", JSON.stringify(nodes.map((n) => ({ port: n.connection.port, hostKey: n.connection.hostKey })))]);
    return stack;
}

function timed<T>(f: () => T): { value: T; seconds: number } {
    const start = process.hrtime.bigint();
    const value = f();
    return { value, seconds: seconds(start) };
}

async function main(): Promise<void> {
    const server = await startRepoServer(REPO_DIR, PORT);
    const started: string[] = [];
    const node = (name: string, port: number) => {
        started.push(name);
        return freshNode(name, port);
    };
    try {
        const ours = node("bench-eng-one", 2251);
        const manual = node("bench-eng-manual", 2252);
        const four = [0, 1, 2, 3].map((i) => node(`bench-eng-four-${i}`, 2253 + i));

        // 4. previews first, while the hosts are fresh: 1, 10 and 50 GpuNodes over five hosts.
        const previewHosts = [ours, ...four];
        const previews: Array<{ count: number; seconds: number; sessionsPerNode: number }> = [];
        for (const count of [1, 10, 50]) {
            const stack = stackFor(`preview-${count}`, previewHosts, count);
            const before = previewHosts.map(sessions).reduce((a, b) => a + b, 0);
            const t = timed(() => stack.preview());
            const after = previewHosts.map(sessions).reduce((a, b) => a + b, 0);
            previews.push({ count, seconds: t.seconds, sessionsPerNode: (after - before) / count });
            stack.remove();
        }

        // 1. one fresh node with `pulumi up` vs NVIDIA's manual commands.
        const one = stackFor("one", [ours], 1);
        const upOne = timed(() => one.up());
        const manualStart = process.hrtime.bigint();
        const m = await sshRun(manual.connection, `sh -c ${quote(manualInstallScript(PORT, "1.20.0-1"))}`);
        if (m.code !== 0) throw new Error(`manual script failed: ${m.stderr}`);
        const manualSeconds = seconds(manualStart);

        // 3. a no-op `pulumi up` of the converged node.
        const pid = nodeExec(ours.name, "systemctl show -p MainPID --value docker").trim();
        const sessionsBefore = sessions(ours);
        const noop = timed(() => one.up());
        const noopSessions = sessions(ours) - sessionsBefore;
        const noopRestarts = nodeExec(ours.name, "systemctl show -p MainPID --value docker").trim() === pid ? 0 : 1;
        const stateOne = Buffer.byteLength(one.exportState());

        // 2. four fresh nodes in one stack.
        const many = stackFor("four", four, 4);
        const upFour = timed(() => many.up());
        const stateFour = Buffer.byteLength(many.exportState());

        const ratio = upOne.seconds / manualSeconds;
        const parRatio = upFour.seconds / upOne.seconds;
        const perNode = (stateFour - stateOne) / 3;
        const lines = [
            `# Real-engine benchmark, ${new Date().toISOString().slice(0, 10)}`,
            "",
            `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB. Engine: the Pulumi CLI v3.248.0, the Node.js language host and the`,
            "command provider stand-in, built by tools/setup-engine.sh; local file backend. Nodes: systemd containers of the e2e fleet",
            "(Debian bookworm, docker.io, apt), packages from the loopback repo. All ratios are from this one run.",
            "",
            "| measure | value |",
            "|---|---:|",
            `| \`pulumi up\`, one fresh node (preview skipped; 1 host read + 11 commands) | ${upOne.seconds.toFixed(2)} s |`,
            `| NVIDIA's manual commands as one script, on an identical fresh node | ${manualSeconds.toFixed(2)} s |`,
            `| ratio pulumi up / manual | ${ratio.toFixed(2)} |`,
            `| \`pulumi up\`, four fresh nodes in one stack | ${upFour.seconds.toFixed(2)} s |`,
            `| ratio 4 nodes / 1 node | ${parRatio.toFixed(2)} |`,
            `| no-op \`pulumi up\`: wall time | ${noop.seconds.toFixed(2)} s (${((noop.seconds / upOne.seconds) * 100).toFixed(0)} % of the first up) |`,
            `| no-op \`pulumi up\`: SSH sessions, docker restarts | ${noopSessions}, ${noopRestarts} |`,
            ...previews.map(
                (p) =>
                    `| \`pulumi preview\`, ${p.count} GpuNode${p.count === 1 ? "" : "s"} | ${p.seconds.toFixed(2)} s, ${p.sessionsPerNode.toFixed(2)} SSH sessions per node |`,
            ),
            `| state size (\`pulumi stack export\`): 1 node, 4 nodes | ${(stateOne / 1024).toFixed(0)} KiB, ${(stateFour / 1024).toFixed(0)} KiB (${(perNode / 1024).toFixed(0)} KiB per further node) |`,
            "",
            "How to read it:",
            "- Every `pulumi` run pays a fixed start cost here: the CLI, the language host, Node.js with ts-node compiling the program",
            "  and the library, and the provider. On this 2-core machine that is several seconds, so a one-node `up` is dominated by it,",
            "  and the no-op `up` is mostly that fixed cost plus one read-only SSH session per node (the host read).",
            "- The previews of 10 and 50 GpuNodes share five hosts (a preview only reads); each GpuNode reads its host once.",
            "- The four nodes share this machine's 2 cores and one disk with their apt and dockerd, so they cannot scale as four hosts would.",
            "- State grows by the step scripts: each command's stdin is its script (the rendered files travel in it).",
            "",
        ];
        const text = lines.join("\n");
        process.stdout.write(text);
        const out = path.join(ROOT, "bench/results", `engine-${new Date().toISOString().slice(0, 10)}.md`);
        fs.writeFileSync(out, text);
        process.stdout.write(`written to ${path.relative(ROOT, out)}\n`);
        many.destroy();
        one.destroy();
    } finally {
        server.kill();
        started.forEach(stopNode);
    }
}

void main().catch((e) => {
    console.error(e);
    process.exit(1);
});
