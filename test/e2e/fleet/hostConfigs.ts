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
