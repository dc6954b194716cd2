/** Existing host configs the fleet's nodes start with: what a platform team's hosts already have. */

/** The password of the fleet's sudo user `ops` (test/e2e/fleet.ts startNode): it goes on stdin only. */
export const SUDO_PASSWORD = "ops-sudo-pw";

/** A kubeadm-like containerd config: version 2, runc with SystemdCgroup, a comment of its owner. */
export const KUBEADM_CONFIG = `# managed by the platform team: do not remove this comment
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
`;

/** The rootless Docker user's own daemon.json before a plan runs. */
export const USER_DAEMON_JSON = '{\n  "bridge": "none"\n}\n';

/**
 * Shell text that gives alice's daemon vfs storage: the fleet's nodes have no /dev/fuse, so her daemon cannot run a
 * container on fuse-overlayfs ("fuse: device not found"). For suites that run containers on her daemon.
 */
export const VFS_FOR_ALICE = `printf '{\n  "bridge": "none",\n  "storage-driver": "vfs"\n}\n' > /home/alice/.config/docker/daemon.json`;

/** A shell prefix that runs a command as alice, with her own Docker daemon. */
export const AS_ALICE = "uid=$(id -u alice); runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/$uid DOCKER_HOST=unix:///run/user/$uid/docker.sock";

/**
 * Starts alice's rootless Docker on a node of the gpu-e2e-rootless image (test-fleet.md): the root daemon off,
 * lingering for her systemd user manager, her daemon.json, and NVIDIA's setup tool.
 */
export function startRootlessDocker(nodeExec: (name: string, command: string) => string, name: string): void {
    // The user's slirp4netns needs the tun device; the setup tool looks for the docker CLI beside itself.
    nodeExec(
        name,
        "systemctl disable --now docker docker.socket >/dev/null 2>&1 || true; ln -sf /usr/bin/docker /usr/local/bin/docker && chmod 666 /dev/net/tun && loginctl enable-linger alice && until [ -S /run/user/$(id -u alice)/bus ]; do sleep 0.5; done",
    );
    nodeExec(
        name,
        `mkdir -p /home/alice/.config/docker && cat > /home/alice/.config/docker/daemon.json <<'EOF'\n${USER_DAEMON_JSON}EOF\nchown -R alice:alice /home/alice/.config`,
    );
    nodeExec(
        name,
        `${AS_ALICE} sh -c 'dockerd-rootless-setuptool.sh install --skip-iptables >/tmp/rootless-setup.log 2>&1 || { tail -n 5 /tmp/rootless-setup.log >&2; exit 1; }'`,
    );
    nodeExec(name, `${AS_ALICE} sh -c 'until docker info >/dev/null 2>&1; do sleep 1; done'`);
}
