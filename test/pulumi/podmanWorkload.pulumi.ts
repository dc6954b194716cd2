import { strict as assert } from "node:assert";
import { ChildProcess, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { REPO_ROOT } from "../helpers/paths";
import { Stack, stateDir, userProject } from "./engine";

/** A Debian release's own Podman node (test/e2e/fleet/build-images.sh) and this suite's ports on it (27xx, 187xx). */
interface PodmanRelease {
    debian: string;
    image: string;
    node: string;
    project: string;
    /** The toolkit the first up installs: one whose CDI spec format the release's Podman reads. */
    toolkit: string;
    /** Podman ≥ 5.1.0 reads CDI spec format 0.7.0 (toolkit ≥ 1.19.1): no spec-format warning with toolkit 1.20. */
    readsCdi070: boolean;
    ports: { ssh: number; repo: number; web: number };
}
const RELEASES: PodmanRelease[] = [
    {
        debian: "Debian 12's Podman 4.3.1",
        image: "gpu-e2e-podman",
        node: "gpu-pulumi-podman-wl",
        project: "podman-workload",
        toolkit: "1.19.0-1",
        readsCdi070: false,
        ports: { ssh: 2705, repo: 18705, web: 2783 },
    },
    {
        debian: "Debian 13's Podman 5.4",
        image: "gpu-e2e-podman-trixie",
        node: "gpu-pulumi-podman-trixie-wl",
        project: "podman-workload-trixie",
        toolkit: "1.20.0-1",
        readsCdi070: true,
        ports: { ssh: 2707, repo: 18707, web: 2785 },
    },
];

/**
 * A Podman node through the real engine (issue 27): a GpuNode of runtime podman and a DockerGpuContainer from its
 * dockerTarget(), which runs `podman run` with the CDI device and publishes a port serving a read-only bind mount. On
 * Debian 12 (Podman 4.3.1) the toolkit starts at 1.19.0, whose spec format it reads, and 1.20 then draws the spec-format
 * warning; on Debian 13 (Podman 5.4) toolkit 1.20 draws none.
 */
const program = (release: PodmanRelease) => `import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, DockerGpuContainer, GpuNode } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const node = new GpuNode("pm", {
    connection: { host: "127.0.0.1", port: ${release.ports.ssh}, user: "root", privateKey: cfg.requireSecret("privateKey"), hostKey: cfg.require("hostKey") },
    runtime: ContainerRuntime.Podman,
    toolkit: { version: cfg.require("toolkitVersion"), repoUrl: "http://127.0.0.1:${release.ports.repo}", keyFingerprint: cfg.require("keyFingerprint") },
});
new DockerGpuContainer("web", {
    ...node.dockerTarget(),
    image: "mini:1",
    devices: ["0"],
    networkMode: "slirp4netns",
    ports: [{ internal: 8080, external: ${release.ports.web}, ip: "127.0.0.1" }],
    volumes: [{ containerPath: "/www", hostPath: "/srv/www", readOnly: true }],
    args: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"],
});
export const findings = node.findings;
`;

for (const release of RELEASES) {
    describe(`pulumi engine: a DockerGpuContainer on a podman node (${release.debian}) runs podman run with the CDI device (issue 27)`, function () {
        this.timeout(900000);
        let server: ChildProcess;
        let node: FleetNode;
        let stack: Stack;

        before(async () => {
            server = await startRepoServer(REPO_DIR, release.ports.repo);
            node = startNode(release.node, release.image, release.ports.ssh);
            fs.mkdirSync(path.join(REPO_ROOT, ".tmp"), { recursive: true });
            fs.writeFileSync(path.join(REPO_ROOT, ".tmp/busybox"), fs.readFileSync("/bin/busybox"), { mode: 0o755 });
            spawnSync("docker", ["cp", path.join(REPO_ROOT, ".tmp/busybox"), `${node.name}:/opt/busybox`]);
            nodeExec(
                node.name,
                "mkdir -p /opt/mini/bin /srv/www && install -m 755 /opt/busybox /opt/mini/bin/busybox && tar -C /opt/mini -cf /opt/mini.tar . && podman import /opt/mini.tar mini:1 >/dev/null && echo served-by-podman-through-pulumi > /srv/www/index.html",
            );
            stack = new Stack(userProject(release.project, program(release)), "test", stateDir(release.project));
            stack.init(
                { hostKey: node.connection.hostKey!, keyFingerprint: fingerprint(), toolkitVersion: release.toolkit },
                { privateKey: sshKey().privateKey },
            );
        });
        after(() => {
            server?.kill();
            stopNode(release.node);
        });

        it(`up with toolkit ${release.toolkit} writes the CDI spec and runs the container through podman: no spec-format warning, the device's edits inside, the port serving the bind mount; preview is clean after`, () => {
            stack.up();
            assert.deepEqual(
                (stack.outputs().findings as Array<{ id: string }>).filter((f) => f.id === "cdi-spec-too-new"),
                [],
                `toolkit ${release.toolkit}'s spec format is one ${release.debian} reads`,
            );
            assert.match(
                nodeExec(node.name, "podman ps --format '{{.Names}} {{.Ports}}'"),
                new RegExp(`^web 127\\.0\\.0\\.1:${release.ports.web}->8080/tcp`, "m"),
            );
            // The CDI edits are in the process's environment (podman exec gets the configured env only).
            assert.match(nodeExec(node.name, `podman exec web /bin/busybox sh -c 'tr "\\0" "\\n" < /proc/1/environ'`), /^NVIDIA_GPU_STAND_IN=0$/m);
            let body = "";
            for (let i = 0; i < 20 && body === ""; i++) {
                body = spawnSync("curl", ["-fsS", "--max-time", "2", `http://127.0.0.1:${release.ports.web}/index.html`], { encoding: "utf8" }).stdout;
                if (body === "") spawnSync("sleep", ["0.5"]);
            }
            assert.equal(body, "served-by-podman-through-pulumi\n");
            assert.equal(stack.expectNoChanges().code, 0, "a converged stack previews clean");
        });

        if (!release.readsCdi070)
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
}
