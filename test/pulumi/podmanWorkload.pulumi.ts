import { strict as assert } from "node:assert";
import { ChildProcess, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { REPO_ROOT } from "../helpers/paths";
import { Stack, stateDir, userProject } from "./engine";

/**
 * A Podman node through the real engine (issue 27): a GpuNode of runtime podman (Debian 12's Podman 4.3.1, toolkit
 * 1.19.0, whose spec format it reads) and a DockerGpuContainer from its dockerTarget(), which runs `podman run` with
 * the CDI device and publishes a port. Ports (this branch's range): SSH 2705, repo 18705, the published port 2783.
 */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, DockerGpuContainer, GpuNode } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const node = new GpuNode("pm", {
    connection: { host: "127.0.0.1", port: 2705, user: "root", privateKey: cfg.requireSecret("privateKey"), hostKey: cfg.require("hostKey") },
    runtime: ContainerRuntime.Podman,
    toolkit: { version: cfg.require("toolkitVersion"), repoUrl: "http://127.0.0.1:18705", keyFingerprint: cfg.require("keyFingerprint") },
});
new DockerGpuContainer("web", {
    ...node.dockerTarget(),
    image: "mini:1",
    devices: ["0"],
    networkMode: "slirp4netns",
    ports: [{ internal: 8080, external: 2783, ip: "127.0.0.1" }],
    volumes: [{ containerPath: "/www", hostPath: "/srv/www", readOnly: true }],
    args: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
});
export const findings = node.findings;
`;

describe("pulumi engine: a DockerGpuContainer on a podman node runs podman run with the CDI device (issue 27)", function () {
    this.timeout(900000);
    let server: ChildProcess;
    let node: FleetNode;
    let stack: Stack;

    before(async () => {
        server = await startRepoServer(REPO_DIR, 18705);
        node = startNode("gpu-pulumi-podman-wl", "gpu-e2e-podman", 2705);
        fs.mkdirSync(path.join(REPO_ROOT, ".tmp"), { recursive: true });
        fs.writeFileSync(path.join(REPO_ROOT, ".tmp/busybox"), fs.readFileSync("/bin/busybox"), { mode: 0o755 });
        spawnSync("docker", ["cp", path.join(REPO_ROOT, ".tmp/busybox"), `${node.name}:/opt/busybox`]);
        nodeExec(
            node.name,
            "mkdir -p /opt/mini/bin /srv/www && install -m 755 /opt/busybox /opt/mini/bin/busybox && tar -C /opt/mini -cf /opt/mini.tar . && podman import /opt/mini.tar mini:1 >/dev/null && echo served-by-podman-through-pulumi > /srv/www/index.html",
        );
        stack = new Stack(userProject("podman-workload", PROGRAM), "test", stateDir("podman-workload"));
        stack.init({ hostKey: node.connection.hostKey!, keyFingerprint: fingerprint(), toolkitVersion: "1.19.0-1" }, { privateKey: sshKey().privateKey });
    });
    after(() => {
        server?.kill();
        stopNode("gpu-pulumi-podman-wl");
    });

    it("up writes the CDI spec and runs the container through podman: the device's edits inside, the port serving the bind mount; preview is clean after", () => {
        stack.up();
        assert.deepEqual(
            (stack.outputs().findings as Array<{ id: string }>).filter((f) => f.id === "cdi-spec-too-new"),
            [],
            "toolkit 1.19.0's spec format is one Podman 4.3.1 reads",
        );
        assert.match(nodeExec(node.name, "podman ps --format '{{.Names}} {{.Ports}}'"), /^web 127\.0\.0\.1:2783->8080\/tcp/m);
        // The CDI edits are in the process's environment (podman exec gets the configured env only).
        assert.match(nodeExec(node.name, `podman exec web /bin/busybox sh -c 'tr "\\0" "\\n" < /proc/1/environ'`), /^NVIDIA_GPU_STAND_IN=0$/m);
        let body = "";
        for (let i = 0; i < 20 && body === ""; i++) {
            body = spawnSync("curl", ["-fsS", "--max-time", "2", "http://127.0.0.1:2783/index.html"], { encoding: "utf8" }).stdout;
            if (body === "") spawnSync("sleep", ["0.5"]);
        }
        assert.equal(body, "served-by-podman-through-pulumi\n");
        assert.equal(stack.expectNoChanges().code, 0, "a converged stack previews clean");
    });

    it("toolkit 1.20 on Podman 4.3.1: the node's findings warn that its CDI spec format is one this Podman cannot read", () => {
        stack.setConfig("toolkitVersion", "1.20.0-1");
        stack.up();
        const warned = (stack.outputs().findings as Array<{ id: string; message: string }>).find((f) => f.id === "cdi-spec-too-new");
        assert.match(warned?.message ?? "", /toolkit 1\.20\.0-1 writes CDI spec format v0\.7\.0, which podman 4\.3\.1 cannot read/);
    });

    it("destroy removes the container", () => {
        stack.destroy();
        assert.equal(nodeExec(node.name, "podman ps -aq --filter name=^web$").trim(), "");
        stack.remove();
    });
});
