import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync } from "node:child_process";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { AS_ALICE, startRootlessDocker } from "../e2e/fleet/hostConfigs";
import { Stack, names, stateDir, userProject } from "./engine";

/**
 * Issue 17 on the real engine: a declared MIG layout previewed, applied, changed and reverted on a fleet node whose
 * nvidia-smi is a stand-in that keeps a MIG state (test/e2e/fleet/fakes/nvidia-smi-mig-standin, modelled on the
 * recorded 2×H200 VM).
 */
const REPO_PORT = 18110;
const MIG_PORT = 2281;
const MIG_NODE = "datacentre-mig";
const STANDIN = path.join(REPO_ROOT, "test/e2e/fleet/fakes/nvidia-smi-mig-standin");
const STATE = "/var/lib/nvidia-smi-mig-standin/state";
const INITIAL_STATE =
    "# nvidia-smi-mig-standin state (a test stand-in, not NVIDIA nvidia-smi)\ngpu 0 mig=Disabled pending=Disabled\ngpu 1 mig=Disabled pending=Disabled\n";
const GPU0 = "GPU-2d7f821f-af01-c8cf-a1e1-9a8866ac8210";
const GPU1 = "GPU-be31e9ef-cb1e-21f9-9232-b504dc96264a";
const DAEMON_JSON = '{\n  "bridge": "none",\n  "iptables": false,\n  "ip-masq": false\n}\n';

/** A platform team's program: one GpuNode, its MIG layout from stack config (a JSON object), or none. */
const MIG_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, GpuNode, MigLayoutArgs } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
new GpuNode("gpu", {
    connection: { host: "127.0.0.1", port: cfg.requireNumber("port"), user: "root", privateKey: cfg.requireSecret("privateKey"), hostKey: cfg.require("hostKey") },
    runtime: ContainerRuntime.Docker,
    enableCdi: true,
    persistenced: false,
    migLayout: cfg.getObject<MigLayoutArgs>("migLayout"),
    toolkit: { version: "1.20.0-1", repoUrl: cfg.require("repoUrl"), keyFingerprint: cfg.require("keyFingerprint") },
});
`;

const LAYOUT_A = {
    devices: [
        { gpus: ["0"], profiles: { "3g.71gb": 2 } },
        { gpus: [GPU1], profiles: { "2g.35gb": 1, "1g.18gb": 1 } },
    ],
};
const LAYOUT_B = {
    devices: [
        { gpus: ["0"], profiles: { "7g.141gb": 1 } },
        { gpus: ["1"], enabled: false },
    ],
};

const diagnostics = (r: { diagnostics: Array<{ message: string }> }) => r.diagnostics.map((d) => d.message).join("\n");

/** A step's whole stdout, as the engine keeps it in the state (its display cuts it to three lines). */
function stepStdout(stack: Stack, step: string): string {
    const state = JSON.parse(stack.exportState()) as { deployment: { resources: Array<{ urn: string; outputs?: { stdout?: string } }> } };
    return state.deployment.resources.find((r) => r.urn.endsWith(`::${step}`))?.outputs?.stdout ?? "";
}

function instances(state: string): string[] {
    return state
        .split("\n")
        .filter((l) => /^(gpu|gi) /.test(l))
        .map((l) => l.replace(/ id=\d+| placement=\S+/g, ""));
}

describe("pulumi engine: a MIG layout on a node with a stand-in nvidia-smi, previewed, applied, changed and reverted (issue 17)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    let stack: Stack;
    const state = () => nodeExec(MIG_NODE, `cat ${STATE}`);
    const setLayout = (layout: unknown) => stack.setConfig("migLayout", JSON.stringify(layout));
    const workload = () => nodeExec(MIG_NODE, "docker inspect -f '{{.State.Running}} {{.State.StartedAt}}' gpu-workload").trim();

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        node = startNode(MIG_NODE, "gpu-e2e-docker", MIG_PORT);
        execFileSync("docker", ["cp", STANDIN, `${MIG_NODE}:/usr/bin/nvidia-smi`]);
        execFileSync("docker", ["cp", "/bin/busybox", `${MIG_NODE}:/root/busybox`]);
        nodeExec(
            MIG_NODE,
            [
                "chmod 755 /usr/bin/nvidia-smi && mkdir -p /var/lib/nvidia-smi-mig-standin",
                `printf '%s' '${INITIAL_STATE}' > ${STATE}`,
                `printf '%s' '${DAEMON_JSON.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > /etc/docker/daemon.json`,
                "systemctl restart docker && until docker info >/dev/null 2>&1; do sleep 1; done",
                "mkdir -p /root/mini/bin && cp /root/busybox /root/mini/bin/busybox && tar -C /root/mini -c . | docker import - mini >/dev/null",
            ].join(" && "),
        );
        stack = new Stack(userProject("datacentre-mig", MIG_PROGRAM), "test", stateDir("datacentre-mig"));
        stack.init(
            { port: String(MIG_PORT), hostKey: node.connection.hostKey!, repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
            { privateKey: sshKey().privateKey },
        );
    });
    after(() => {
        server?.kill();
        stopNode(MIG_NODE);
    });

    it("without a layout, up leaves MIG alone; a GPU workload then runs through the nvidia runtime", () => {
        stack.up();
        assert.equal(state(), INITIAL_STATE);
        nodeExec(
            MIG_NODE,
            "docker run -d --name gpu-workload --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=all mini /bin/busybox sh -c 'trap \"exit 0\" TERM; while :; do /bin/busybox sleep 1; done' >/dev/null",
        );
        assert.match(nodeExec(MIG_NODE, "nvidia-smi -i 0 --query-compute-apps=pid,process_name --format=csv,noheader"), /^\d+, busybox$/m);
    });

    it("refuses a profile the H200 does not have at preview, naming the ones it has", () => {
        setLayout({ devices: [{ profiles: { "3g.40gb": 2 } }] });
        const failure = stack.previewFailure();
        const text = failure.stdout + failure.stderr;
        assert.match(text, /migLayout\.devices\[0\]\.profiles: "3g\.40gb" is not a MIG profile of GPU 0 \(NVIDIA H200\)/);
        assert.match(text, /use one of: 1g\.18gb, 1g\.18gb\+me, 1g\.35gb, 2g\.35gb, 3g\.71gb, 4g\.71gb, 7g\.141gb/);
        assert.equal(state(), INITIAL_STATE);
    });

    it("previews the current layout and the new one, and changes nothing", () => {
        setLayout(LAYOUT_A);
        const preview = stack.preview();
        assert.deepEqual(names(preview.steps, "create"), ["gpu-mig-layout"]);
        const text = diagnostics(preview);
        assert.ok(text.includes(`GPU 0 (NVIDIA H200, ${GPU0}): MIG Disabled → Enabled; instances none → 3g.71gb ×2`), text);
        assert.ok(text.includes(`GPU 1 (NVIDIA H200, ${GPU1}): MIG Disabled → Enabled; instances none → 1g.18gb, 2g.35gb`), text);
        assert.equal(state(), INITIAL_STATE);
        assert.match(workload(), /^true /);
    });

    it("up stops the GPU workload first, sets MIG mode, creates the instances, regenerates the CDI spec, verifies, and starts the workload again", () => {
        const started = workload();
        stack.up();
        const out = stepStdout(stack, "gpu-mig-layout");
        assert.deepEqual(instances(state()), [
            "gpu 0 mig=Enabled pending=Enabled",
            "gpu 1 mig=Enabled pending=Enabled",
            "gi 0 profile=3g.71gb profileId=9",
            "gi 0 profile=3g.71gb profileId=9",
            "gi 1 profile=1g.18gb profileId=19",
            "gi 1 profile=2g.35gb profileId=14",
        ]);
        assert.equal(state().match(/^ci /gm)?.length, 4, "one compute instance per GPU instance");
        assert.match(out, /stopped GPU container gpu-workload/);
        assert.match(out, /regenerated \/var\/run\/cdi\/nvidia\.yaml/);
        assert.match(out, /changed: MIG layout applied to GPU 0 1/);
        // The stand-in logs each call with the GPU processes of that moment: none while MIG changed.
        const changes = nodeExec(MIG_NODE, "grep -E -- ' -mig 1| -cgi ' /var/log/nvidia-smi-mig-standin.log");
        assert.equal(changes.split("\n").filter(Boolean).length, 4, changes);
        assert.doesNotMatch(changes, /apps: gpu/);
        assert.match(workload(), /^true /);
        assert.notEqual(workload(), started, "the workload was restarted");
        const clean = stack.expectNoChanges();
        assert.equal(clean.code, 0, `${clean.stdout}\n${clean.stderr}`);
    });

    it("a changed layout previews as an update and up converges to it", () => {
        setLayout(LAYOUT_B);
        const preview = stack.preview();
        // The CDI spec names the MIG devices, so the cdi-spec step runs after a layout change (sdk/steps/managedObjectStep.ts UPSTREAM).
        assert.deepEqual(names(preview.steps, "update"), ["gpu-cdi-spec", "gpu-mig-layout"]);
        const text = diagnostics(preview);
        assert.ok(text.includes(`GPU 0 (NVIDIA H200, ${GPU0}): MIG Enabled; instances 3g.71gb ×2 → 7g.141gb`), text);
        assert.ok(text.includes(`GPU 1 (NVIDIA H200, ${GPU1}): MIG Enabled → Disabled; instances 1g.18gb, 2g.35gb → none`), text);
        stack.up();
        assert.deepEqual(instances(state()), ["gpu 0 mig=Enabled pending=Enabled", "gpu 1 mig=Disabled pending=Disabled", "gi 0 profile=7g.141gb profileId=0"]);
        assert.equal(stack.expectNoChanges().code, 0);
    });

    it("removing the layout restores the layout the node had before the first apply", () => {
        stack.run(["config", "rm", "migLayout"]);
        assert.deepEqual(names(stack.preview().steps, "delete"), ["gpu-mig-layout"]);
        stack.up();
        assert.equal(state(), INITIAL_STATE);
        assert.match(workload(), /^true /);
        assert.equal(stack.expectNoChanges().code, 0);
    });

    it("destroy restores it too", () => {
        setLayout(LAYOUT_A);
        stack.up();
        assert.match(state(), /^gi 0 /m);
        stack.destroy();
        assert.equal(state(), INITIAL_STATE);
    });
});

const BOTH_PORT = 2282;
const BOTH_NODE = "datacentre-both";
const ALICE_DAEMON_JSON = '{\n  "bridge": "none",\n  "storage-driver": "vfs"\n}\n';
const ROOT_DAEMON_JSON = '{\n  "bridge": "none",\n  "iptables": false,\n  "ip-masq": false,\n  "storage-driver": "vfs"\n}\n';
const ALICE_JSON_PATH = "/home/alice/.config/docker/daemon.json";
const TOOLKIT_CONFIG = "/etc/nvidia-container-runtime/config.toml";
// The node's GPU stand-in (test/e2e/fleet/gpu-stand-ins/nvidia-container-runtime) logs each create and the way it went.
const SHIM_LOG = "/var/log/nvidia-container-runtime-stand-in.log";

/** Rootful Docker from a GpuNode, and alice's rootless Docker from a DockerRuntime after it, on one host. */
const BOTH_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, DockerRuntime, GpuNode, commandsOf } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const connection = { host: "127.0.0.1", port: cfg.requireNumber("port"), user: "root", privateKey: cfg.requireSecret("privateKey"), hostKey: cfg.require("hostKey") };
const node = new GpuNode("gpu", {
    connection,
    runtime: ContainerRuntime.Docker,
    toolkit: { version: "1.20.0-1", repoUrl: cfg.require("repoUrl"), keyFingerprint: cfg.require("keyFingerprint") },
});
new DockerRuntime("alice", { connection, rootlessUser: "alice" }, { dependsOn: commandsOf(node) });
`;

describe("pulumi engine: rootful and rootless Docker side by side on one node, the rootless one through CDI (issue 17)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    let stack: Stack;
    const cat = (file: string) => nodeExec(BOTH_NODE, `cat ${file}`);

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT + 1);
        node = startNode(BOTH_NODE, "gpu-e2e-rootless", BOTH_PORT);
        startRootlessDocker(nodeExec, BOTH_NODE);
        execFileSync("docker", ["cp", "/bin/busybox", `${BOTH_NODE}:/tmp/busybox`]);
        nodeExec(
            BOTH_NODE,
            [
                // vfs: the node has no fuse for fuse-overlayfs. Docker's masked /proc and /sys paths in the node would
                // stop runc in alice's user namespace from mounting /proc and /sys ("mount_too_revealing").
                `printf '%s' '${ROOT_DAEMON_JSON.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > /etc/docker/daemon.json`,
                `printf '%s' '${ALICE_DAEMON_JSON.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > ${ALICE_JSON_PATH}`,
                'awk \'$5 ~ "^/proc/" { print $5 }\' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done; umount /sys/firmware',
                "systemctl enable --now docker.socket docker >/dev/null 2>&1 && until docker info >/dev/null 2>&1; do sleep 1; done",
                `${AS_ALICE} systemctl --user restart docker`,
                `${AS_ALICE} sh -c 'until docker info >/dev/null 2>&1; do sleep 1; done'`,
                "mkdir -p /tmp/mini/bin && cp /tmp/busybox /tmp/mini/bin/busybox && chmod -R a+rX /tmp/mini",
                "tar -C /tmp/mini -c . | docker import - mini >/dev/null",
                `${AS_ALICE} sh -c 'tar -C /tmp/mini -c . | docker import - mini >/dev/null'`,
            ].join(" && "),
        );
        stack = new Stack(userProject("datacentre-both", BOTH_PROGRAM), "test", stateDir("datacentre-both"));
        stack.init(
            { port: String(BOTH_PORT), hostKey: node.connection.hostKey!, repoUrl: `http://127.0.0.1:${REPO_PORT + 1}`, keyFingerprint: fingerprint() },
            { privateKey: sshKey().privateKey },
        );
    });
    after(() => {
        server?.kill();
        stopNode(BOTH_NODE);
    });

    it("up configures both daemons and never flips the host-wide no-cgroups; each daemon runs a container through its own nvidia runtime", () => {
        const preview = stack.preview();
        const text = diagnostics(preview);
        assert.ok(text.includes("gpu: /etc/docker/daemon.json will change"), text);
        assert.ok(text.includes(`alice: ${ALICE_JSON_PATH} will change`), text);
        assert.ok(!text.includes(`${TOOLKIT_CONFIG} will change`), text);
        stack.up();
        // The toolkit package's own config, as its postinst wrote it: no-cgroups still the commented default.
        const toolkit = cat(TOOLKIT_CONFIG);
        assert.match(toolkit, /^#no-cgroups = false$/m);
        assert.doesNotMatch(toolkit, /^no-cgroups/m);
        // Both daemon.json files as planned: the nvidia runtime added, the owners' keys kept.
        const rootJson = JSON.parse(cat("/etc/docker/daemon.json"));
        assert.deepEqual(rootJson, { ...JSON.parse(ROOT_DAEMON_JSON), runtimes: { nvidia: { path: "nvidia-container-runtime", args: [] } } });
        const aliceJson = JSON.parse(cat(ALICE_JSON_PATH));
        assert.deepEqual(aliceJson, { ...JSON.parse(ALICE_DAEMON_JSON), runtimes: { nvidia: { path: "nvidia-container-runtime", args: [] } } });
        assert.match(cat("/var/run/cdi/nvidia.yaml"), /kind: nvidia\.com\/gpu/);
        // The stand-in runtime logs each call; alice's runtime runs as her, so its log must be writable for her.
        nodeExec(BOTH_NODE, `rm -f ${SHIM_LOG}; touch ${SHIM_LOG}; chmod 666 ${SHIM_LOG}`);
        nodeExec(BOTH_NODE, "docker run --rm --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=all mini /bin/busybox true");
        const rootful = cat(SHIM_LOG).trim().split("\n");
        // The rootless daemon asks for GPUs by CDI name: the nvidia runtime then injects from the CDI spec, without cgroups.
        nodeExec(BOTH_NODE, `${AS_ALICE} docker run --rm --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=all mini /bin/busybox true`);
        const rootless = cat(SHIM_LOG).trim().split("\n").slice(rootful.length);
        // Each daemon's calls name its own runc state.
        assert.ok(
            rootful.some((l) => / create /.test(l)),
            rootful.join("\n"),
        );
        assert.ok(
            rootless.some((l) => / create /.test(l)),
            rootless.join("\n"),
        );
        const uid = nodeExec(BOTH_NODE, "id -u alice").trim();
        assert.ok(
            rootless.every((l) => l.includes(`/run/user/${uid}/`)),
            `alice's daemon's calls use her runtime state: ${rootless.join("\n")}`,
        );
        assert.ok(
            rootful.every((l) => !l.includes("/run/user/")),
            `the system daemon's calls: ${rootful.join("\n")}`,
        );
        assert.equal(cat(TOOLKIT_CONFIG), toolkit, "running containers changed no toolkit setting");
    });

    it("previews no changes, and destroy restores both daemon.json files byte for byte", () => {
        const clean = stack.expectNoChanges();
        assert.equal(clean.code, 0, `${clean.stdout}\n${clean.stderr}`);
        stack.destroy();
        assert.equal(cat("/etc/docker/daemon.json"), ROOT_DAEMON_JSON);
        assert.equal(cat(ALICE_JSON_PATH), ALICE_DAEMON_JSON);
        assert.doesNotMatch(nodeExec(BOTH_NODE, `cat ${TOOLKIT_CONFIG} 2>/dev/null || true`), /^no-cgroups/m);
    });
});
