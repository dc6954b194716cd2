import { strict as assert } from "node:assert";
import { ChildProcess, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { watchedFiles } from "../../components/gpuNode";
import { PODMAN_CDI_SPECS, podmanWorkloadFindings } from "../../sdk/runtime/podmanPreflight";
import { DockerContainerSpec, dockerContainerPlan, dockerContainerStep } from "../../sdk/workloads/dockerContainer";
import { PODMAN_RESTART_LINK, PODMAN_RESTART_MASK, podmanRestartFindings } from "../../sdk/workloads/podmanRestart";
import { NodeSpec, nodePlan } from "../../sdk/node/nodePlan";
import { PODMAN_BOOT_DROP_IN } from "../../sdk/runtime/podmanBootOrder";
import { REPO_ROOT } from "../helpers/paths";
import {
    FleetNode,
    REPO_DIR,
    applySteps,
    failed,
    fingerprint,
    nodeExec,
    nodeStartedAt,
    snapshot,
    startNode,
    startRepoServer,
    stopNode,
    undoSteps,
} from "./fleet";

/** A Debian release's own Podman, as a fleet node (test/e2e/fleet/build-images.sh). */
interface PodmanRelease {
    debian: string;
    image: string;
    node: string;
    /** What `podman --version` says there. */
    podman: RegExp;
    /** Podman ≥ 5.1.0 reads CDI spec format 0.7.0 (toolkit ≥ 1.19.1), so the spec-format warning must not fire. */
    readsCdi070: boolean;
    /** SSH, the loopback repo and the port the workload publishes (this branch's range: 27xx, 187xx). */
    ports: { ssh: number; repo: number; web: number };
}
const RELEASES: PodmanRelease[] = [
    {
        debian: "Debian 12",
        image: "gpu-e2e-podman",
        node: "gpu-e2e-podman-wl",
        podman: /^4\.3\.1$/,
        readsCdi070: false,
        ports: { ssh: 2703, repo: 18703, web: 2781 },
    },
    {
        debian: "Debian 13",
        image: "gpu-e2e-podman-trixie",
        node: "gpu-e2e-podman-trixie-wl",
        podman: /^5\.4\.\d+$/,
        readsCdi070: true,
        ports: { ssh: 2706, repo: 18706, web: 2784 },
    },
];

/**
 * A Podman node from Debian's packages (bookworm: Podman 4.3.1; trixie: Podman 5.4) set up as a `podman` GpuNode, and
 * DockerGpuContainer's `engine: podman` workload on it through the real podman (issue 27): CDI devices resolved from the
 * spec the plan wrote, a published port serving a read-only bind mount, and the CDI spec-format warning where the
 * release's Podman cannot read the spec (4.3.1), with both fixes it names: the toolkit pinned below 1.19.1 (on 4.3.1),
 * and Podman ≥ 5.1.0 (5.4 runs a 0.7.0 and a 0.8.0 spec, and nothing warns).
 */
for (const release of RELEASES) {
    describe(`e2e: Podman on ${release.debian} (${release.image}): CDI devices through podman run, and the CDI spec-format warning`, function () {
        this.timeout(900000);
        let server: ChildProcess;
        let node: FleetNode;
        const spec = (version: string): NodeSpec => ({
            runtime: "podman",
            toolkit: { version, repoUrl: `http://127.0.0.1:${release.ports.repo}`, keyFingerprint: fingerprint() },
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
                ports: [{ internal: 8080, external: release.ports.web, ip: "127.0.0.1" }],
                volumes: [{ containerPath: "/www", hostPath: "/srv/www", readOnly: true }],
                shmSize: 256,
                // No ulimits: any --ulimit makes Podman 4.3 also set nofile 1048576, which the fleet's nodes (no
                // CAP_SYS_RESOURCE) cannot raise to ("crun: setrlimit RLIMIT_NOFILE: Operation not permitted"). The
                // Docker suite checks ulimits.
            },
        };
        // A container that stops on SIGTERM (a busybox sleep as PID 1 ignores it: podman rm -f would wait 10 s for it).
        const smi: DockerContainerSpec = {
            name: "smi",
            image: "mini:1",
            engine: "podman",
            devices: ["0"],
            args: ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM; while :; do /bin/busybox sleep 1; done"],
            // No network: Podman 5's default bridge (netavark) sets sysctls, and the nodes' /proc/sys is read-only.
            options: { networkMode: "none" },
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
        const processEnv = (name: string) => podman(`exec ${name} /bin/busybox sh -c 'tr "\\0" "\\n" < /proc/1/environ'`);
        // STAND-IN for the spec a GPU host's nvidia-ctk ≥ 1.19.1 writes (cdiVersion 0.7.0, research-2026-11 Q1 row 4): the
        // fleet's generator writes 0.5.0, so the version line of the spec the plan wrote is raised by hand.
        const raiseSpec = (cdiVersion: string) => nodeExec(node.name, `sed -i 's/^cdiVersion: .*/cdiVersion: ${cdiVersion}/' /var/run/cdi/nvidia.yaml`);

        before(async () => {
            server = await startRepoServer(REPO_DIR, release.ports.repo);
            node = startNode(release.node, release.image, release.ports.ssh);
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
            stopNode(release.node);
        });

        it(
            release.readsCdi070
                ? "the host read reports the node's own podman version, and the node plan with toolkit 1.20 writes the spec without a spec-format warning"
                : "the host read reports the node's own podman version, and the node plan warns that toolkit 1.20 writes a CDI spec it cannot read, and writes the spec",
            async () => {
                const planned = await applyNode("1.20.0-1");
                const version = /^podman version (\S+)$/m.exec(podman("--version"))?.[1] ?? "";
                assert.match(version, release.podman);
                assert.equal((await snapshot(node.connection, [])).facts.podmanVersion, version);
                const warning = planned.findings.find((f) => f.id === "cdi-spec-too-new");
                if (release.readsCdi070) assert.equal(warning, undefined, JSON.stringify(planned.findings));
                else
                    assert.match(
                        warning?.message ?? JSON.stringify(planned.findings),
                        new RegExp(`toolkit 1\\.20\\.0-1 writes CDI spec format v0\\.7\\.0, which podman ${version.replace(/\./g, "\\.")} cannot read`),
                    );
                assert.match(nodeExec(node.name, "cat /var/run/cdi/nvidia.yaml"), /kind: nvidia\.com\/gpu/);
            },
        );

        it("runs the container through podman with the CDI device, the capabilities, a published port serving a read-only bind mount and shm", async () => {
            const first = await applySteps(node.connection, [dockerContainerStep(web)]);
            assert.equal(failed(first), undefined, JSON.stringify(failed(first)));
            assert.match(first[0].stdout, /started container web/);
            // The CDI spec's edits (the fleet's stand-in spec sets this variable for nvidia.com/gpu=all) reached the container's
            // process; `podman exec` gets the container's configured env only, so read PID 1's.
            const env = processEnv("web");
            assert.match(env, /^NVIDIA_GPU_STAND_IN=all$/m);
            assert.match(env, /^NVIDIA_DRIVER_CAPABILITIES=compute,video$/m);
            let body = "";
            for (let i = 0; i < 20 && body === ""; i++) {
                body = spawnSync("curl", ["-fsS", "--max-time", "2", `http://127.0.0.1:${release.ports.web}/index.html`], { encoding: "utf8" }).stdout;
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

        if (release.readsCdi070)
            it("specs of format 0.7.0 and 0.8.0: nothing warns, and podman runs the container with the device (the fix 'upgrade podman to 5.1.0' works)", async () => {
                for (const cdiVersion of ["0.7.0", "0.8.0"]) {
                    raiseSpec(cdiVersion);
                    assert.deepEqual(await workloadFindings(), [], cdiVersion);
                    const ran = await applySteps(node.connection, [dockerContainerStep(smi)]);
                    assert.equal(failed(ran), undefined, `${cdiVersion}: ${JSON.stringify(failed(ran))}`);
                    assert.match(processEnv("smi"), /^NVIDIA_GPU_STAND_IN=0$/m, cdiVersion);
                    assert.equal(failed(await undoSteps(node.connection, [dockerContainerStep(smi)])), undefined);
                }
            });
        else
            it("a spec of format 0.7.0: the workload preview warns and podman refuses it; the fix it names (toolkit below 1.19.1) rewrites the spec and podman runs", async () => {
                raiseSpec("0.7.0");
                const findings = await workloadFindings();
                assert.deepEqual(
                    findings.map((f) => f.id),
                    ["cdi-spec-too-new"],
                );
                assert.match(findings[0].message, /\/var\/run\/cdi\/nvidia\.yaml is CDI spec format 0\.7\.0, which podman 4\.3\.1 cannot read/);
                const refused = await applySteps(node.connection, [dockerContainerStep(smi)]);
                assert.notEqual(refused[0].code, 0, "podman 4.3.1 cannot read a 0.7.0 spec");
                assert.match(
                    refused[0].stderr,
                    /error: podman run of container smi failed, and the container was removed: .*(nvidia\.com\/gpu|CDI|cdi|version)/s,
                );
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
                assert.match(processEnv("smi"), /^NVIDIA_GPU_STAND_IN=0$/m);
                await undoSteps(node.connection, [dockerContainerStep(smi)]);
            });

        it("a reboot: the default restart policy leaves the container down, as the preview warns; the fix it names brings it back, GPU and all", async () => {
            // The node as the plan sets it up, its podman-boot-order drop-in included: the CDI spec under /var/run/cdi is
            // gone at boot, and podman resolves the GPU container's CDI device again when podman-restart.service starts it.
            await applyNode("1.20.0-1");
            const down: DockerContainerSpec = { name: "down", image: "mini:1", engine: "podman", mode: "none", args: smi.args, options: smi.options };
            const up: DockerContainerSpec = { ...down, name: "up", restart: "always" };
            const gpu: DockerContainerSpec = { ...smi, name: "gpu", restart: "always" };
            const restartFindings = async (c: DockerContainerSpec) =>
                podmanRestartFindings(
                    c.name,
                    dockerContainerPlan(c).restart,
                    undefined,
                    (
                        await snapshot(
                            node.connection,
                            [PODMAN_RESTART_LINK, PODMAN_RESTART_MASK].map((p) => ({ path: p })),
                        )
                    ).files,
                );
            assert.deepEqual(
                (await restartFindings(down)).map((f) => f.id),
                ["podman-restart-policy"],
            );
            // The fix: restart always, and podman-restart.service enabled (Debian 12 enables it; Debian 13 does not).
            const before = await restartFindings(up);
            if (release.readsCdi070) {
                assert.deepEqual(
                    before.map((f) => [f.id, f.fix]),
                    [["podman-restart-disabled", "systemctl enable podman-restart.service"]],
                );
                nodeExec(node.name, before[0].fix);
            } else assert.deepEqual(before, []);
            assert.deepEqual(await restartFindings(up), []);
            for (const c of [down, up, gpu]) assert.equal(failed(await applySteps(node.connection, [dockerContainerStep(c)])), undefined, c.name);
            // STAND-IN for a GPU host's refresh, which runs nvidia-smi -L and NVML and takes seconds there (here, a stand-in
            // spec takes 60 ms and podman-restart.service, started in the same instant, lost the race only by luck).
            nodeExec(
                node.name,
                "mkdir -p /etc/systemd/system/nvidia-cdi-refresh.service.d && printf '[Service]\\nExecStartPre=/bin/sleep 2\\n' > /etc/systemd/system/nvidia-cdi-refresh.service.d/50-e2e-gpu-host-time.conf && systemctl daemon-reload",
            );
            spawnSync("docker", ["restart", "--time", "2", node.name]);
            // Until boot has finished (podman-restart.service is part of it); `degraded` is fine (the node's own units).
            for (let i = 0; i < 120; i++) {
                const state = spawnSync("docker", ["exec", node.name, "systemctl", "is-system-running"], { encoding: "utf8" }).stdout;
                if (/^(running|degraded)$/m.test(state)) break;
                spawnSync("sleep", ["0.5"]);
            }
            assert.equal(podman("ps --format '{{.Names}}' --filter name=^up$ --filter name=^down$").trim(), "up");
            // podman-restart.service waited for the spec (written at boot), so the GPU container is up with its CDI device.
            const boot = nodeExec(
                node.name,
                `journalctl --since @${nodeStartedAt(node.name)} -o short-monotonic --no-pager -u nvidia-cdi-refresh.service -u podman-restart.service`,
            );
            const at = (line: RegExp) => Number(/^\[\s*([\d.]+)\]/m.exec(boot.split("\n").find((l) => line.test(l)) ?? "")?.[1] ?? NaN);
            assert.ok(at(/Finished nvidia-cdi-refresh\.service/) < at(/Starting podman-restart\.service/), boot);
            assert.equal(
                podman("ps --format '{{.Names}}' --filter name=^gpu$").trim(),
                "gpu",
                nodeExec(node.name, "journalctl -b -u podman-restart --no-pager | tail -n 5"),
            );
            assert.match(processEnv("gpu"), /^NVIDIA_GPU_STAND_IN=0$/m);
            for (const c of [down, up, gpu]) await undoSteps(node.connection, [dockerContainerStep(c)]);
            // The drop-in is the plan's: a hand edit is drift the next plan repairs, and its undo leaves no trace of it.
            const bootOrder = (await applyNode("1.20.0-1")).plan.steps.find((st) => st.name === "podman-boot-order")!;
            nodeExec(node.name, `echo '# edited by hand' >> ${PODMAN_BOOT_DROP_IN}`);
            const drifted = nodePlan(await snapshot(node.connection, watchedFiles(spec("1.20.0-1"))), spec("1.20.0-1"));
            assert.equal(drifted.files.find((f) => f.path === PODMAN_BOOT_DROP_IN)?.changed, true, "the edit is seen");
            assert.equal(failed(await applySteps(node.connection, drifted.plan.steps)), undefined);
            assert.doesNotMatch(nodeExec(node.name, `cat ${PODMAN_BOOT_DROP_IN}`), /edited by hand/);
            await undoSteps(node.connection, [bootOrder]);
            assert.equal(nodeExec(node.name, "ls -d /etc/systemd/system/podman-restart.service.d 2>/dev/null || echo gone").trim(), "gone");
        });
    });
}
