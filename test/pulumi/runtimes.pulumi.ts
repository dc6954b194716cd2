import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshKey, startNode, startRepoServer, stopNode } from "../e2e/fleet";
import { AS_ALICE, KUBEADM_CONFIG, SUDO_PASSWORD, USER_DAEMON_JSON, startRootlessDocker } from "../e2e/fleet/hostConfigs";
import { Stack, names, stateDir, userProject } from "./engine";
import { USER_PROGRAM } from "./programs";

const REPO_PORT = 18096;

/** One node kind of the lifecycle: how to start it, which file to revert by hand, and how to tell its runtime restarted. */
interface Target {
    title: string;
    name: string;
    port: number;
    image: string;
    setup: (node: FleetNode) => void;
    config: Record<string, string>;
    secrets?: Record<string, string>;
    /** A file the plan edits, its original bytes, and the step that writes it. */
    file: { path: string; original: string; step: string };
    /** The steps a hand revert of that file makes the engine update. */
    repairs: string[];
    /** The runtime's main PID, to see that a repair or a re-create restarted it; undefined where nothing restarts. */
    pid?: (node: FleetNode) => string;
}

const TARGETS: Target[] = [
    {
        title: "containerd, driven by a sudo user whose password goes on stdin",
        name: "gpu-pulumi-containerd",
        port: 2223,
        image: "gpu-e2e-docker",
        setup: (node) =>
            nodeExec(
                node.name,
                `systemctl disable --now docker docker.socket >/dev/null 2>&1 || true; cat > /etc/containerd/config.toml <<'EOF'\n${KUBEADM_CONFIG}EOF\nsystemctl restart containerd`,
            ),
        config: { user: "ops", runtime: "containerd" },
        secrets: { sudoPassword: SUDO_PASSWORD },
        file: { path: "/etc/containerd/config.toml", original: KUBEADM_CONFIG, step: "gpu-containerd-config" },
        repairs: ["gpu-containerd-config", "gpu-containerd-restart", "gpu-verify-runtimes"],
        pid: (node) => nodeExec(node.name, "systemctl show -p MainPID --value containerd").trim(),
    },
    {
        title: "rootless Docker of the user alice",
        name: "gpu-pulumi-rootless",
        port: 2224,
        image: "gpu-e2e-rootless",
        setup: (node) => startRootlessDocker(nodeExec, node.name),
        config: { runtime: "docker-rootless", rootlessUser: "alice" },
        file: { path: "/home/alice/.config/docker/daemon.json", original: USER_DAEMON_JSON, step: "gpu-docker-rootless-daemon-json" },
        repairs: ["gpu-docker-rootless-daemon-json", "gpu-docker-rootless-restart"],
        pid: (node) => nodeExec(node.name, `${AS_ALICE} systemctl --user show -p MainPID --value docker`).trim(),
    },
    {
        title: "a dnf node (RHEL's os-release, Debian's dnf and rpm) with the CDI runtime",
        name: "gpu-pulumi-dnf",
        port: 2225,
        image: "gpu-e2e-rpm",
        setup: (node) =>
            nodeExec(
                node.name,
                `printf 'ID="rhel"\\nVERSION_ID="9.4"\\nID_LIKE="fedora"\\nPRETTY_NAME="Red Hat Enterprise Linux 9.4"\\n' > /etc/os-release; mkdir -p /etc/yum.repos.d; printf '[local]\\nname=local\\nbaseurl=file:///nonexistent\\nenabled=0\\n' > /etc/yum.repos.d/nvidia-container-toolkit.repo`,
            ),
        config: { runtime: "cdi" },
        file: {
            path: "/etc/yum.repos.d/nvidia-container-toolkit.repo",
            original: "[local]\nname=local\nbaseurl=file:///nonexistent\nenabled=0\n",
            step: "gpu-toolkit-repo",
        },
        repairs: ["gpu-toolkit-repo"],
    },
];

for (const target of TARGETS) {
    describe(`pulumi engine: ${target.title} (issue 12)`, function () {
        this.timeout(900000);
        let server: ChildProcess;
        let node: FleetNode;
        let stack: Stack;
        const live = () => nodeExec(node.name, `cat ${target.file.path}`);

        before(async () => {
            server = await startRepoServer(REPO_DIR, REPO_PORT);
            node = startNode(target.name, target.image, target.port);
            target.setup(node);
            assert.equal(live(), target.file.original);
            stack = new Stack(userProject(target.name, USER_PROGRAM), "test", stateDir(target.name));
            stack.init(
                {
                    host: "127.0.0.1",
                    port: String(target.port),
                    hostKey: node.connection.hostKey!,
                    toolkitVersion: "1.20.0-1",
                    repoUrl: `http://127.0.0.1:${REPO_PORT}`,
                    keyFingerprint: fingerprint(),
                    ...target.config,
                },
                { privateKey: sshKey().privateKey, ...target.secrets },
            );
        });
        after(() => {
            server?.kill();
            stopNode(target.name);
        });

        it("previews the file's diff without touching the host, converges on up, and previews clean", () => {
            const preview = stack.preview();
            assert.ok(
                preview.diagnostics.some((d) => d.message.includes(`${target.file.path} will change`)),
                preview.diagnostics.map((d) => d.message).join("\n"),
            );
            assert.equal(live(), target.file.original, "the preview wrote nothing");
            stack.up();
            assert.notEqual(live(), target.file.original);
            const clean = stack.expectNoChanges();
            assert.equal(clean.code, 0, `${clean.stdout}\n${clean.stderr}`);
        });

        it("repairs a hand revert, then previews clean", () => {
            const applied = live();
            nodeExec(node.name, `cat > ${target.file.path} <<'EOF'\n${target.file.original}EOF`);
            assert.deepEqual(names(stack.preview().steps, "update"), [...target.repairs].sort());
            const pid = target.pid?.(node);
            stack.up();
            assert.equal(live(), applied, "repaired byte for byte");
            if (target.pid) assert.notEqual(target.pid(node), pid, "the runtime restarted with the repaired file");
            const clean = stack.expectNoChanges();
            assert.equal(clean.code, 0, `${clean.stdout}\n${clean.stderr}`);
        });

        it("keeps credentials out of the state: no private key, no sudo password", () => {
            const state = stack.exportState();
            assert.equal(state.includes("BEGIN OPENSSH PRIVATE KEY"), false);
            assert.equal(state.includes(SUDO_PASSWORD), false);
        });

        it("destroy restores the file byte for byte; up again converges (restarting the runtime); destroy again", () => {
            stack.destroy();
            assert.equal(live(), target.file.original);
            const pid = target.pid?.(node);
            stack.up();
            if (target.pid) assert.notEqual(target.pid(node), pid, "the second create restarted the runtime");
            assert.equal(stack.expectNoChanges().code, 0);
            stack.destroy();
            assert.equal(live(), target.file.original);
        });
    });
}
