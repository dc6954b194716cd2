import { strict as assert } from "node:assert";
import { ChildProcess, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { watchedFiles } from "../../components/gpuNode";
import { PODMAN_CDI_SPECS, podmanWorkloadFindings } from "../../sdk/runtime/podmanPreflight";
import { DockerContainerSpec, dockerContainerStep } from "../../sdk/workloads/dockerContainer";
import { NodeSpec, nodePlan } from "../../sdk/node/nodePlan";
import { REPO_ROOT } from "../helpers/paths";
import { FleetNode, REPO_DIR, applySteps, failed, fingerprint, nodeExec, snapshot, startNode, startRepoServer, stopNode, undoSteps } from "./fleet";

/**
 * A Podman node from Debian's packages (bookworm: Podman 4.3.1) set up as a `podman` GpuNode, and DockerGpuContainer's
 * `engine: podman` workload on it through the real podman (issue 27): CDI devices resolved from the spec the plan
 * wrote, a published port serving a read-only bind mount, and the CDI spec-format warning with its fix.
 * Ports (this branch's range): SSH 2703, repo 18703, the published port 2781.
 */
describe("e2e: Podman 4.3.1 (Debian 12): CDI devices through podman run, and the CDI spec-format warning", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    const spec = (version: string): NodeSpec => ({
        runtime: "podman",
        toolkit: { version, repoUrl: "http://127.0.0.1:18703", keyFingerprint: fingerprint() },
    });
    const podman = (cmd: string) => nodeExec(node.name, `podman ${cmd}`);
    const web: DockerContainerSpec = {
        name: "web",
        image: "mini:1",
        engine: "podman",
        devices: ["all"],
        driverCapabilities: ["compute", "video"],
        args: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
        options: {
            // slirp4netns: a port published without touching the shared host's iptables (the node uses the host's network).
            networkMode: "slirp4netns",
            ports: [{ internal: 8080, external: 2781, ip: "127.0.0.1" }],
            volumes: [{ containerPath: "/www", hostPath: "/srv/www", readOnly: true }],
            shmSize: 256,
            // No ulimits: any --ulimit makes Podman 4.3 also set nofile 1048576, which the fleet's nodes (no
            // CAP_SYS_RESOURCE) cannot raise to ("crun: setrlimit RLIMIT_NOFILE: Operation not permitted"). The
            // Docker suite checks ulimits.
        },
    };
    const applyNode = async (version: string) => {
        const planned = nodePlan(await snapshot(node.connection, watchedFiles(spec(version))), spec(version));
        const results = await applySteps(node.connection, planned.plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        return planned;
    };
    const workloadFindings = async () => {
        const snap = await snapshot(
            node.connection,
            PODMAN_CDI_SPECS.map((p) => ({ path: p })),
        );
        return podmanWorkloadFindings(snap.facts, snap.files);
    };

    before(async () => {
        server = await startRepoServer(REPO_DIR, 18703);
        node = startNode("gpu-e2e-podman-wl", "gpu-e2e-podman", 2703);
        fs.mkdirSync(path.join(REPO_ROOT, ".tmp"), { recursive: true });
        fs.writeFileSync(path.join(REPO_ROOT, ".tmp/busybox"), fs.readFileSync("/bin/busybox"), { mode: 0o755 });
        spawnSync("docker", ["cp", path.join(REPO_ROOT, ".tmp/busybox"), `${node.name}:/opt/busybox`]);
        nodeExec(
            node.name,
            "mkdir -p /opt/mini/bin /srv/www && install -m 755 /opt/busybox /opt/mini/bin/busybox && tar -C /opt/mini -cf /opt/mini.tar . && podman import /opt/mini.tar mini:1 >/dev/null && echo served-by-podman > /srv/www/index.html",
        );
    });
    after(() => {
        server?.kill();
        stopNode("gpu-e2e-podman-wl");
    });

    it("the node plan warns that toolkit 1.20 writes a CDI spec Podman 4.3.1 cannot read, and writes the spec", async () => {
        const planned = await applyNode("1.20.0-1");
        assert.match(podman("--version"), /podman version 4\.3\.1/);
        const warning = planned.findings.find((f) => f.id === "cdi-spec-too-new");
        assert.ok(warning, JSON.stringify(planned.findings));
        assert.match(warning!.message, /toolkit 1\.20\.0-1 writes CDI spec format v0\.7\.0, which podman 4\.3\.1 cannot read/);
        assert.match(nodeExec(node.name, "cat /var/run/cdi/nvidia.yaml"), /kind: nvidia\.com\/gpu/);
    });

    it("runs the container through podman with the CDI device, the capabilities, a published port serving a read-only bind mount and shm", async () => {
        const first = await applySteps(node.connection, [dockerContainerStep(web)]);
        assert.equal(failed(first), undefined, JSON.stringify(failed(first)));
        assert.match(first[0].stdout, /started container web/);
        // The CDI spec's edits (the fleet's stand-in spec sets this variable for nvidia.com/gpu=all) reached the container's
        // process; `podman exec` gets the container's configured env only, so read PID 1's.
        const env = podman(`exec web /bin/busybox sh -c 'tr "\\0" "\\n" < /proc/1/environ'`);
        assert.match(env, /^NVIDIA_GPU_STAND_IN=all$/m);
        assert.match(env, /^NVIDIA_DRIVER_CAPABILITIES=compute,video$/m);
        let body = "";
        for (let i = 0; i < 20 && body === ""; i++) {
            body = spawnSync("curl", ["-fsS", "--max-time", "2", "http://127.0.0.1:2781/index.html"], { encoding: "utf8" }).stdout;
            if (body === "") spawnSync("sleep", ["0.5"]);
        }
        assert.equal(body, "served-by-podman\n");
        assert.match(podman("exec web /bin/busybox sh -c 'touch /www/x 2>&1 || true'"), /Read-only file system/);
        assert.match(podman("exec web /bin/busybox df -m /dev/shm"), /\s256\s/);
        assert.match((await applySteps(node.connection, [dockerContainerStep(web)]))[0].stdout, /unchanged: container web/);
        const removed = await undoSteps(node.connection, [dockerContainerStep(web)]);
        assert.equal(failed(removed), undefined);
        assert.equal(podman("ps -a -q --filter name=web").trim(), "");
    });

    it("a spec of format 0.7.0: the workload preview warns and podman 4.3.1 refuses it; the fix it names (toolkit below 1.19.1) rewrites the spec and podman runs", async () => {
        // STAND-IN for the spec a GPU host's nvidia-ctk ≥ 1.19.1 writes (cdiVersion 0.7.0, research-2026-11 Q1 row 4):
        // the fleet's generator writes 0.5.0, so the version line of the spec the plan wrote is raised by hand.
        nodeExec(node.name, "sed -i 's/^cdiVersion: .*/cdiVersion: 0.7.0/' /var/run/cdi/nvidia.yaml");
        const findings = await workloadFindings();
        assert.deepEqual(
            findings.map((f) => f.id),
            ["cdi-spec-too-new"],
        );
        assert.match(findings[0].message, /\/var\/run\/cdi\/nvidia\.yaml is CDI spec format 0\.7\.0, which podman 4\.3\.1 cannot read/);
        const smi: DockerContainerSpec = { name: "smi", image: "mini:1", engine: "podman", devices: ["0"], args: ["/bin/busybox", "sleep", "600"] };
        const refused = await applySteps(node.connection, [dockerContainerStep(smi)]);
        assert.notEqual(refused[0].code, 0, "podman 4.3.1 cannot read a 0.7.0 spec");
        assert.match(refused[0].stderr, /error: podman run of container smi failed, and the container was removed: .*(nvidia\.com\/gpu|CDI|cdi|version)/s);
        // The fix: the node's toolkit pinned below 1.19.1. Its plan rewrites the spec (whose format the generator picks).
        const pinned = await applyNode("1.19.0-1");
        assert.equal(
            pinned.findings.find((f) => f.id === "cdi-spec-too-new"),
            undefined,
        );
        assert.deepEqual(await workloadFindings(), []);
        assert.doesNotMatch(nodeExec(node.name, "cat /var/run/cdi/nvidia.yaml"), /cdiVersion: 0\.7\.0/);
        const ran = await applySteps(node.connection, [dockerContainerStep(smi)]);
        assert.equal(failed(ran), undefined, JSON.stringify(failed(ran)));
        assert.match(podman(`exec smi /bin/busybox sh -c 'tr "\\0" "\\n" < /proc/1/environ'`), /^NVIDIA_GPU_STAND_IN=0$/m);
        await undoSteps(node.connection, [dockerContainerStep(smi)]);
    });
});
