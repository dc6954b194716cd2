import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { watchedFiles } from "../../components/gpuNode";
import { cdiSpecStep } from "../../sdk/toolkit/toolkitSteps";
import { NodeSpec, nodePlan } from "../../sdk/node/nodePlan";
import { nodeSpecOf } from "../../sdk/node/nodeSpec";
import { REPO_ROOT } from "../helpers/paths";
import {
    FleetNode,
    atVersion,
    versions,
    REPO_DIR,
    StepResult,
    applySteps,
    failed,
    fingerprint,
    nodeExec,
    snapshot,
    startNode,
    startRepoServer,
    stopNode,
    undoSteps,
} from "./fleet";

/**
 * The fleet's packages carry NVIDIA's real toolkit binaries (built from the Go module proxy by
 * tools/setup-toolkit-versions.sh, packaged by test/e2e/fleet/build-repo.sh with NVIDIA's own layout and maintainer
 * scripts). What needs a GPU is a node-level stand-in (test/e2e/fleet/gpu-stand-ins/): `nvidia-ctk cdi generate`, the
 * conditions and `nvidia-smi -L` of nvidia-cdi-refresh.service, and the runtime's handling of a GPU request.
 */
const REPO_PORT = 18120;
const BINARIES = path.join(REPO_ROOT, ".tmp/bin/toolkit");
const SPEC_DIRS = "/etc/cdi /var/run/cdi";
const ORIGINAL_DAEMON_JSON = '{\n  "bridge": "none",\n  "iptables": false\n}\n';
const STAND_IN_LOG = "/var/log/nvidia-ctk-stand-in.log";

const sha256 = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
/** Every CDI spec of kind nvidia.com/gpu in the folders CDI runtimes read, and the devices `nvidia-ctk cdi list` (real) reports. */
const nvidiaSpecs = (node: FleetNode) =>
    nodeExec(node.name, `grep -l '^kind: nvidia.com/gpu' $(find ${SPEC_DIRS} -maxdepth 1 -type f 2>/dev/null) 2>/dev/null || true`).split("\n").filter(Boolean);
const cdiDevices = (node: FleetNode) => nodeExec(node.name, "/usr/bin/nvidia-ctk cdi list 2>/dev/null").split("\n").filter(Boolean).sort();
const step = (results: StepResult[], name: string) => {
    const found = results.find((r) => r.name === name);
    assert.ok(found, `step ${name} ran: ${results.map((r) => r.name).join(", ")}`);
    return found;
};

/**
 * The four binaries a toolkit version's packages put in /usr/bin are NVIDIA's, byte for byte as the Go build made them.
 * The runtime's `--version` looks for runc first (1.17.8 fails without it), so it is asked only where `withRunc`.
 */
function assertRealBinaries(node: FleetNode, version: string, withRunc = true) {
    for (const bin of ["nvidia-ctk", "nvidia-container-runtime", "nvidia-container-runtime-hook", "nvidia-cdi-hook"]) {
        const onNode = nodeExec(node.name, `sha256sum /usr/bin/${bin}`).split(" ")[0];
        assert.equal(onNode, sha256(path.join(BINARIES, version, bin)), `/usr/bin/${bin} is the real ${version} build`);
    }
    assert.match(
        nodeExec(node.name, "/usr/bin/nvidia-ctk --version"),
        new RegExp(`^NVIDIA Container Toolkit CLI version ${version.replace(/\./g, "\\.")}$`, "m"),
    );
    if (withRunc) {
        assert.match(
            nodeExec(node.name, "/usr/bin/nvidia-container-runtime --version"),
            new RegExp(`^NVIDIA Container Runtime version ${version.replace(/\./g, "\\.")}$`, "m"),
        );
    }
    assert.match(
        nodeExec(node.name, "nvidia-container-runtime-hook --version"),
        new RegExp(`^NVIDIA Container Runtime Hook version ${version.replace(/\./g, "\\.")}$`, "m"),
    );
    // NVIDIA's nvidia-container-toolkit postinst links the hook's old name.
    assert.equal(nodeExec(node.name, "readlink /usr/bin/nvidia-container-toolkit").trim(), "/usr/bin/nvidia-container-runtime-hook");
}

describe("e2e: NVIDIA's real toolkit binaries in the fleet's packages (only what needs a GPU is a stand-in)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let docker: FleetNode;
    let cdi: FleetNode;
    const spec = (version: string, extra: Partial<NodeSpec> = {}) =>
        nodeSpecOf({
            runtime: "docker",
            enableCdi: true,
            toolkit: { version, mode: "jit-cdi", repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
            ...extra,
        });
    const cdiSpec = (version: string) =>
        nodeSpecOf({
            runtime: "cdi",
            toolkit: { version, repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
        });
    async function apply(node: FleetNode, s: NodeSpec) {
        const planned = nodePlan(await snapshot(node.connection, watchedFiles(s)), s);
        const results = await applySteps(node.connection, planned.plan.steps);
        assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
        return results;
    }

    before(async () => {
        server = await startRepoServer(REPO_DIR, REPO_PORT);
        docker = startNode(
            "gpu-e2e-pkg-docker1",
            "gpu-e2e-docker",
            2231,
            `printf '%s' '${ORIGINAL_DAEMON_JSON.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > /etc/docker/daemon.json && systemctl restart docker`,
        );
        cdi = startNode("gpu-e2e-pkg-cdi1", "gpu-e2e-base", 2232);
        nodeExec(docker.name, "until docker info >/dev/null 2>&1; do sleep 1; done");
        require("node:child_process").execFileSync("docker", ["cp", "/bin/busybox", `${docker.name}:/root/busybox`]);
        nodeExec(docker.name, "mkdir -p /root/mini/bin && cp /root/busybox /root/mini/bin/busybox && tar -C /root/mini -c . | docker import - mini >/dev/null");
    });
    after(() => {
        server?.kill();
        stopNode("gpu-e2e-pkg-docker1");
        stopNode("gpu-e2e-pkg-cdi1");
    });

    it("1.19.0-1: the toolkit config is the one NVIDIA's postinst writes, and the plan's mode is set in it by the real nvidia-ctk", async () => {
        const results = await apply(docker, spec("1.19.0-1"));
        assert.deepEqual(versions(docker), atVersion("1.19.0-1"));
        assertRealBinaries(docker, "1.19.0");
        assert.match(step(results, "toolkit-config").stdout, /changed \/etc\/nvidia-container-runtime\/config\.toml/);
        // The same two calls of the real binary on a scratch file give the same bytes: `config default` through the
        // package's `config --in-place`, then the plan's `config --set`.
        const expected = nodeExec(
            docker.name,
            "f=$(mktemp -u); /usr/bin/nvidia-ctk --quiet config --config-file=$f --in-place && /usr/bin/nvidia-ctk config --config-file $f --in-place --set nvidia-container-runtime.mode=jit-cdi && cat $f && rm -f $f",
        );
        assert.equal(nodeExec(docker.name, "cat /etc/nvidia-container-runtime/config.toml"), expected);
        assert.match(expected, /^\[nvidia-container-runtime\.modes\.cdi\]$/m);
        assert.match(expected, /^mode = "jit-cdi"$/m);
        // 1.19 shipped the refresh units in /etc/systemd/system and enabled them from its postinst.
        assert.equal(nodeExec(docker.name, "systemctl is-enabled nvidia-cdi-refresh.path").trim(), "enabled");
        assert.match(
            nodeExec(docker.name, "systemctl show -p FragmentPath --value nvidia-cdi-refresh.service"),
            /^\/etc\/systemd\/system\/nvidia-cdi-refresh\.service$/m,
        );
    });

    it("1.20.0-1 carries NVIDIA's 1.20.0 binaries at NVIDIA's paths, and the upgrade moves the refresh units to /lib/systemd/system", async () => {
        await apply(docker, spec("1.20.0-1"));
        assert.deepEqual(versions(docker), atVersion("1.20.0-1"));
        assertRealBinaries(docker, "1.20.0");
        // NVIDIA's maintscript (rm_conffile) removes 1.19's copies, which would otherwise shadow the packaged units.
        assert.equal(
            nodeExec(docker.name, "ls /etc/systemd/system/nvidia-cdi-refresh.service /etc/systemd/system/nvidia-cdi-refresh.path 2>/dev/null || true"),
            "",
        );
        assert.match(
            nodeExec(docker.name, "systemctl show -p FragmentPath --value nvidia-cdi-refresh.service"),
            /^\/lib\/systemd\/system\/nvidia-cdi-refresh\.service$/m,
        );
        assert.equal(nodeExec(docker.name, "systemctl is-enabled nvidia-cdi-refresh.path").trim(), "enabled");
        // libnvidia-container is C: its tool is a stand-in, and says so.
        assert.match(nodeExec(docker.name, "nvidia-container-cli --version"), /1\.20\.0-1 \(e2e stand-in/);
    });

    it("with nvidia-cdi-refresh installed, the CDI step runs the unit instead of writing a second spec: one nvidia spec, its devices listed once", async () => {
        const results = await apply(docker, spec("1.20.0-1"));
        assert.match(step(results, "cdi-spec").stdout, /unchanged \/var\/run\/cdi\/nvidia\.yaml \(written by nvidia-cdi-refresh\)/);
        assert.deepEqual(nvidiaSpecs(docker), ["/var/run/cdi/nvidia.yaml"]);
        assert.deepEqual(cdiDevices(docker), ["nvidia.com/gpu=0", "nvidia.com/gpu=all"]);
        assert.match(nodeExec(docker.name, "cat /var/run/cdi/nvidia.yaml"), /^# GPU STAND-IN: written by the e2e fleet's nvidia-ctk stand-in/m);
        // Only the unit generated it (the step's own generate would have written a temp file beside it), and the
        // step keeps no claim on it.
        assert.doesNotMatch(nodeExec(docker.name, `cat ${STAND_IN_LOG}`), /-> \/var\/run\/cdi\/nvidia\.yaml\./);
        assert.equal(nodeExec(docker.name, "ls /var/lib/pulumi-nvidia-gpu/cdi-spec-written 2>/dev/null || true"), "");
        assert.equal(nodeExec(docker.name, "ls /var/run/cdi").trim(), "nvidia.yaml");
    });

    it("the docker runtime entry the plan wrote is the one the real `nvidia-ctk runtime configure --cdi.enabled` writes from the same daemon.json", () => {
        const ours = JSON.parse(nodeExec(docker.name, "cat /etc/docker/daemon.json"));
        const theirs = JSON.parse(
            nodeExec(
                docker.name,
                `f=$(mktemp); printf '%s' '${ORIGINAL_DAEMON_JSON.replace(/\n/g, "\\n")}' | sed 's/\\\\n/\\n/g' > $f && /usr/bin/nvidia-ctk runtime configure --runtime=docker --cdi.enabled --config=$f >/dev/null 2>&1 && cat $f && rm -f $f`,
            ),
        );
        assert.deepEqual(ours, theirs);
        assert.deepEqual(ours.runtimes.nvidia, { path: "nvidia-container-runtime", args: [] });
    });

    it("docker run --runtime=nvidia goes through NVIDIA's real runtime; a GPU request goes to the GPU stand-in", () => {
        nodeExec(docker.name, "rm -f /var/log/nvidia-container-runtime-stand-in.log /var/log/nvidia-container-runtime.log");
        // NVIDIA's runtime logs to its `debug` file: set it for this run only, and put the plan's config back byte for byte.
        const config = "/etc/nvidia-container-runtime/config.toml";
        nodeExec(
            docker.name,
            `cp -p ${config} /root/config.toml.plan && /usr/bin/nvidia-ctk config --config-file ${config} --in-place --set nvidia-container-runtime.debug=/var/log/nvidia-container-runtime.log`,
        );
        try {
            assert.equal(nodeExec(docker.name, "docker run --rm --network none --runtime=nvidia mini /bin/busybox echo ran").trim(), "ran");
        } finally {
            nodeExec(docker.name, `cp -p /root/config.toml.plan ${config}`);
        }
        assert.match(nodeExec(docker.name, "cat /var/log/nvidia-container-runtime-stand-in.log"), /^\d+ real: \/usr\/bin\/nvidia-container-runtime .*create/m);
        const runtimeLog = nodeExec(docker.name, "cat /var/log/nvidia-container-runtime.log 2>/dev/null || true");
        assert.match(runtimeLog, /Using OCI specification file path: .*\/config\.json/, runtimeLog);
        // The mode the plan set (toolkit.mode) is the one the real runtime used.
        assert.match(runtimeLog, /Using requested mode 'jit-cdi'/, runtimeLog);
        nodeExec(docker.name, "docker run --rm --network none --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all mini /bin/busybox true");
        assert.match(nodeExec(docker.name, "cat /var/log/nvidia-container-runtime-stand-in.log"), /^\d+ stand-in: GPU request \(all\) passed to runc/m);
    });

    it("without nvidia-cdi-refresh (1.17.8-1, real binaries, no units) the CDI step writes the spec itself, and removes only that one on undo", async () => {
        const results = await apply(cdi, cdiSpec("1.17.8-1"));
        assert.deepEqual(versions(cdi), atVersion("1.17.8-1"));
        assertRealBinaries(cdi, "1.17.8", false);
        assert.notEqual(nodeExec(cdi.name, "systemctl cat nvidia-cdi-refresh.service >/dev/null 2>&1; echo $?").trim(), "0");
        assert.match(step(results, "cdi-spec").stdout, /changed \/var\/run\/cdi\/nvidia\.yaml/);
        assert.match(step(results, "cdi-spec").stdout, /cdi-device nvidia\.com\/gpu=all/);
        assert.deepEqual(nvidiaSpecs(cdi), ["/var/run/cdi/nvidia.yaml"]);
        assert.equal(nodeExec(cdi.name, "cat /var/lib/pulumi-nvidia-gpu/cdi-spec-written").trim(), "/var/run/cdi/nvidia.yaml");
        const undone = await undoSteps(cdi.connection, [cdiSpecStep()]);
        assert.equal(failed(undone), undefined);
        assert.deepEqual(nvidiaSpecs(cdi), []);
        await apply(cdi, cdiSpec("1.17.8-1"));
        assert.deepEqual(nvidiaSpecs(cdi), ["/var/run/cdi/nvidia.yaml"]);
    });

    it("after an upgrade that brings the units (1.17.8 → 1.20.0), the step hands the spec to nvidia-cdi-refresh: still one spec, and undo leaves it", async () => {
        const results = await apply(cdi, cdiSpec("1.20.0-1"));
        assert.deepEqual(versions(cdi), atVersion("1.20.0-1"));
        assert.match(step(results, "cdi-spec").stdout, /written by nvidia-cdi-refresh/);
        assert.deepEqual(nvidiaSpecs(cdi), ["/var/run/cdi/nvidia.yaml"]);
        assert.deepEqual(cdiDevices(cdi), ["nvidia.com/gpu=0", "nvidia.com/gpu=all"]);
        assert.equal(nodeExec(cdi.name, "ls /var/lib/pulumi-nvidia-gpu/cdi-spec-written 2>/dev/null || true"), "");
        const undone = await undoSteps(cdi.connection, [cdiSpecStep()]);
        assert.equal(failed(undone), undefined);
        assert.deepEqual(nvidiaSpecs(cdi), ["/var/run/cdi/nvidia.yaml"], "the unit's spec stays");
    });

    it("re-applies on both nodes with nothing changed", async () => {
        for (const [node, s] of [
            [docker, spec("1.20.0-1")],
            [cdi, cdiSpec("1.20.0-1")],
        ] as const) {
            const results = await apply(node, s);
            assert.deepEqual(
                results.filter((r) => /^(changed|restarted|started)/m.test(r.stdout)).map((r) => r.name),
                [],
                node.name,
            );
            assert.deepEqual(nvidiaSpecs(node), ["/var/run/cdi/nvidia.yaml"]);
        }
    });
});
