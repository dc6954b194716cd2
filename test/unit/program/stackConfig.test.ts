import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { planStack } from "../../../cli/offlinePlan";
import { HostReader } from "../../../components/hostReader";
import { ResolvedConnection } from "../../../components/connection";
import { parseHostFacts } from "../../../sdk/host/hostFacts";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { formatReport } from "../../../sdk/report/planReport";
import { runCli } from "../../helpers/runCli";
import { REPO_ROOT } from "../../helpers/paths";
import { installMocks } from "../../helpers/pulumiMocks";

const DOCKER_FACTS = "examples/hosts/gpu-docker-1.probe.json";

/** A project dir with Pulumi.yaml, the example host files and a stack `t` of these nodes (and more config). */
function stackDir(nodes: unknown[], more: Record<string, unknown> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
    fs.cpSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.cpSync(path.join(REPO_ROOT, "examples/hosts"), path.join(dir, "examples/hosts"), { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.t.yaml"), YAML.stringify({ config: { "nvidia-gpu-fleet:nodes": nodes, ...more } }));
    return dir;
}

const good = (name: string, extra: Record<string, unknown> = {}) => ({ name, host: `${name}.example`, facts: { probeFile: DOCKER_FACTS }, ...extra });

describe("stack config: checked against a schema before anything is planned", function () {
    this.timeout(60000);
    const dirs: string[] = [];
    const dir = (nodes: unknown[], more?: Record<string, unknown>) => {
        const d = stackDir(nodes, more);
        dirs.push(d);
        return d;
    };
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("names unknown keys with the field they were meant to be, instead of planning docker 1.20.0-1", async () => {
        const report = await planStack(dir([good("a", { runtme: "containerd", enableCDI: true, toolkit: { verison: "1.19.0-1" } })]), "t");
        const row = report.nodes[0];
        assert.equal(row.status, "error");
        assert.equal(row.plan, undefined);
        assert.match(row.reason!, /config nodes\[0\]\.runtme: is not a field — did you mean runtime\?/);
        assert.match(row.reason!, /config nodes\[0\]\.enableCDI: is not a field — did you mean enableCdi\?/);
        assert.match(row.reason!, /config nodes\[0\]\.toolkit\.verison: is not a field — did you mean version\?/);
    });

    it("checks types and enums, naming the field and the choices", async () => {
        const report = await planStack(dir([good("a", { runtime: "nerdctl", port: "22", setAsDefault: "yes" })]), "t");
        const reason = report.nodes[0].reason!;
        assert.match(reason, /config nodes\[0\]\.runtime: "nerdctl" is not supported — use one of: docker, docker-rootless, containerd, crio, cdi, podman/);
        assert.match(reason, /config nodes\[0\]\.port: is "22" — use a number/);
        assert.match(reason, /config nodes\[0\]\.setAsDefault: is "yes" — use a boolean/);
    });

    it("names each bad node and still plans the others", async () => {
        const text = formatReport(await planStack(dir([good("bad", { driver: { branch: "58" } }), good("ok")]), "t"), "text");
        assert.match(
            text,
            /== bad \(bad\.example\)\nerror: config nodes\[0\]\.driver\.branch: "58" is not valid — use a three-digit driver branch such as 580/,
        );
        assert.match(text, /== ok \(ok\.example\)\nSteps:/);
    });

    it("gpu-node plan prints every row and exits 1 when a node cannot be planned (an error, not a change)", async () => {
        const d = dir([good("bad", { driver: { branch: "58" } }), good("ok")]);
        const r = await runCli("plan", "--stack", "t", "--root", d);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stdout, /== ok \(ok\.example\)\nSteps:/);
        assert.match(r.stdout, /1 in error/);
    });

    it("a node whose plan fails at plan time (not in the schema) gets its own row too", async () => {
        const d = dir([good("broken", { facts: { probeFile: DOCKER_FACTS, files: { "/etc/docker/daemon.json": "broken.json" } } }), good("ok")]);
        fs.writeFileSync(path.join(d, "broken.json"), '{"runtimes": {\n');
        const report = await planStack(d, "t");
        assert.deepEqual(
            report.nodes.map((n) => n.status),
            ["error", "planned"],
        );
        assert.match(report.nodes[0].reason!, /^cannot be planned: .*daemon\.json/);
        const missing = await planStack(dir([good("gone", { facts: { probeFile: "examples/hosts/nope.json" } }), good("ok")]), "t");
        assert.equal(missing.nodes[0].status, "error");
        assert.match(missing.nodes[0].reason!, /facts unreadable: ENOENT/);
        assert.equal(missing.nodes[1].status, "planned");
    });

    it("the offline plan does not read privateKeyPath (CI has no key file)", async () => {
        const report = await planStack(dir([good("a", { privateKeyPath: "/nonexistent/id_ed25519" })]), "t");
        assert.equal(report.nodes[0].status, "planned");
    });

    it("--live reports an unreachable host on its own row and plans the others", async () => {
        const facts = parseHostFacts(fs.readFileSync(path.join(REPO_ROOT, DOCKER_FACTS), "utf8"));
        const reader: HostReader = {
            async snapshot(c: ResolvedConnection): Promise<HostSnapshot> {
                if (c.host === "down.example") throw new Error("reading down.example failed: connect ECONNREFUSED");
                return { facts, files: {}, priorWrites: {}, containerdDump: undefined };
            },
        };
        const report = await planStack(
            dir([
                { name: "down", host: "down.example" },
                { name: "up", host: "up.example" },
            ]),
            "t",
            reader,
        );
        assert.deepEqual(
            report.nodes.map((n) => [n.name, n.status]),
            [
                ["down", "error"],
                ["up", "planned"],
            ],
        );
        assert.match(report.nodes[0].reason!, /unreachable: reading down\.example failed: connect ECONNREFUSED/);
    });

    it("refuses a misspelt stack key with the key meant", async () => {
        await assert.rejects(
            planStack(dir([good("a")], { "nvidia-gpu-fleet:kubernets": { validate: true } }), "t"),
            /^GpuConfigError: config kubernets: is not a key of this program — did you mean kubernetes\?$/,
        );
    });

    it("kubernetes.sharing: a string replicas never reaches the device plugin's config.yaml", async () => {
        await assert.rejects(
            planStack(dir([good("a")], { "nvidia-gpu-fleet:kubernetes": { sharing: { strategy: "time-slicing", replicas: "1\n  devices: [0]" } } }), "t"),
            /config kubernetes\.sharing\.replicas: is "1\\n  devices: \[0\]" — use a number/,
        );
        await assert.rejects(
            planStack(dir([good("a")], { "nvidia-gpu-fleet:kubernetes": { sharing: { strategy: "timeslicing", replicas: 4 } } }), "t"),
            /config kubernetes\.sharing\.strategy: "timeslicing" is not supported — use one of: none, time-slicing, mps/,
        );
    });

    it("kubernetes.sharing strategy none writes no sharing config", async () => {
        const none = await planStack(dir([good("a")], { "nvidia-gpu-fleet:kubernetes": { sharing: { strategy: "none" } } }), "t");
        assert.ok(none.kubernetes.some((k) => k.type === "kubernetes:apps/v1:DaemonSet"));
        assert.ok(!none.kubernetes.some((k) => k.type === "kubernetes:core/v1:ConfigMap"), JSON.stringify(none.kubernetes));
        const slicing = await planStack(dir([good("a")], { "nvidia-gpu-fleet:kubernetes": { sharing: { strategy: "time-slicing", replicas: 4 } } }), "t");
        assert.ok(slicing.kubernetes.some((k) => k.type === "kubernetes:core/v1:ConfigMap"));
    });
});

describe("stack config: the root program under pulumi up", () => {
    const lib = () => require("../../../program/fleet") as typeof import("../../../program/fleet");

    it("stops before any resource, naming every problem of every node", () => {
        const recorded = installMocks(false);
        pulumi.runtime.setAllConfig({
            "project:nodes": JSON.stringify([
                { host: "a", runtme: "containerd" },
                { host: "b", driver: { branch: "58" } },
            ]),
        });
        assert.throws(
            () => lib().createNodesFromConfig(),
            (e: Error) => {
                assert.match(e.message, /config nodes\[0\]\.runtme: is not a field — did you mean runtime\?/);
                assert.match(e.message, /config nodes\[1\]\.driver\.branch: "58" is not valid/);
                return true;
            },
        );
        assert.deepEqual(recorded, []);
    });

    it("reads privateKeyPath when it runs for real, and names the node's field when it cannot", () => {
        installMocks(false);
        pulumi.runtime.setAllConfig({ "project:nodes": JSON.stringify([{ host: "a", privateKeyPath: "/nonexistent/id_ed25519" }]) });
        assert.throws(() => lib().createNodesFromConfig(), /config nodes\[0\]\.privateKeyPath: cannot read \/nonexistent\/id_ed25519 \(ENOENT\)/);
    });

    it("takes a YAML number as the driver branch it spells", () => {
        const { parseNodes } = require("../../../program/config") as typeof import("../../../program/config");
        const [node] = parseNodes([{ host: "a", driver: { branch: 580 } }]);
        assert.ok(node.ok);
        assert.equal(node.config.driver?.branch, "580");
    });
});
