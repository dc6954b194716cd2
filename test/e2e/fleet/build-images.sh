#!/bin/sh
# Builds the fleet's node images once per machine (each is skipped when it exists):
#   gpu-e2e-base      debootstrap bookworm with systemd, sshd, ca-certificates, gnupg, curl
#   gpu-e2e-trixie    the same from trixie (Debian 13)
#   gpu-e2e-docker    + Debian's docker.io, containerd and runc, for the Docker and containerd nodes
#   gpu-e2e-rpm       + Debian's zypper, dnf and rpm; a node sets /etc/os-release to RHEL or openSUSE
#   gpu-e2e-rootless  + rootless Docker for the user alice (test-fleet.md); set up when a node starts
#   gpu-e2e-podman    + Debian's podman (4.3.1 in bookworm), crun and slirp4netns; vfs storage (no overlay on the node's overlay)
#   gpu-e2e-podman-trixie  gpu-e2e-trixie + trixie's podman (5.4), crun and slirp4netns, set up as gpu-e2e-podman
set -eu
mkdir -p /var/log/e2e
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
# bootstrap NAME RELEASE: debootstraps Debian RELEASE with systemd and sshd and imports it as NAME (the driver suite's
# trixie nodes and the trixie Podman node start from gpu-e2e-trixie).
bootstrap() {
    docker image inspect "$1" >/dev/null 2>&1 && return 0
    root=$(mktemp -d)
    nice -n 10 debootstrap --variant=minbase --include=systemd,systemd-sysv,openssh-server,ca-certificates,gnupg,curl,iproute2,dbus,sudo,procps,python3-minimal \
        "$2" "$root" "$mirror" >"/var/log/e2e/debootstrap-$2.log" 2>&1 || { tail -n 20 "/var/log/e2e/debootstrap-$2.log" >&2; exit 1; }
    # The image's apt uses the same mirror as the machine: Debian's mirrors are reachable, nothing else is.
    printf 'deb %s %s main\n' "$mirror" "$2" >"$root/etc/apt/sources.list"
    rm -f "$root"/etc/ssh/ssh_host_*
    tar -C "$root" -c . | docker import - "$1" >/dev/null
    rm -rf "$root"
}
bootstrap gpu-e2e-base bookworm
bootstrap gpu-e2e-trixie trixie

# derive NAME FROM SHELL: runs SHELL in a container of FROM and commits the result as NAME.
derive() {
    docker image inspect "$1" >/dev/null 2>&1 && return 0
    docker rm -f gpu-e2e-build >/dev/null 2>&1 || true
    docker run --name gpu-e2e-build --network host "$2" sh -c "$3" >"/var/log/e2e/build-$1.log" 2>&1 \
        || { tail -n 20 "/var/log/e2e/build-$1.log" >&2; exit 1; }
    docker commit gpu-e2e-build "$1" >/dev/null
    docker rm -f gpu-e2e-build >/dev/null
}
install_quietly='apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends'
derive gpu-e2e-docker gpu-e2e-base "$install_quietly docker.io containerd runc >/dev/null && apt-get clean"
derive gpu-e2e-rpm gpu-e2e-base "$install_quietly zypper dnf rpm >/dev/null && apt-get clean && : > /etc/zypp/systemCheck"
derive gpu-e2e-rootless gpu-e2e-docker "$install_quietly rootlesskit uidmap dbus-user-session slirp4netns fuse-overlayfs >/dev/null && apt-get clean \
    && useradd -m -s /bin/sh alice && cp /usr/share/docker.io/contrib/dockerd-rootless*.sh /usr/local/bin/ && chmod 755 /usr/local/bin/dockerd-rootless*.sh"
# slirp4netns: published ports without touching the shared host's iptables (the nodes use the host's network).
# vfs storage (no overlay on the node's overlay; Podman 4.3 wants runroot and graphroot with it), and no default
# sysctls: the nodes' /proc/sys is read-only, where Podman's default net.ipv4.ping_group_range would fail every run.
podman_node="$install_quietly podman crun slirp4netns uidmap >/dev/null && apt-get clean \
    && printf '[storage]\\ndriver = \"vfs\"\\nrunroot = \"/run/containers/storage\"\\ngraphroot = \"/var/lib/containers/storage\"\\n' > /etc/containers/storage.conf \
    && printf '[containers]\\ndefault_sysctls = []\\n' > /etc/containers/containers.conf"
derive gpu-e2e-podman gpu-e2e-base "$podman_node"
# Trixie's Podman 5.4 with crun 1.21 under the node's own systemd, on a cgroup v1 machine: the scope systemd makes
# for a container refuses crun's `c 5:0 rwm` in devices.allow (EPERM), so every run fails; cgroupfs skips that scope.
# (A cgroup v2 host has no devices.allow; a cgroup v1 one also makes Podman 5 warn that v1 is deprecated.)
derive gpu-e2e-podman-trixie gpu-e2e-trixie "$podman_node && printf '[engine]\\ncgroup_manager = \"cgroupfs\"\\n' >> /etc/containers/containers.conf"
echo "images ready: gpu-e2e-base gpu-e2e-trixie gpu-e2e-docker gpu-e2e-rpm gpu-e2e-rootless gpu-e2e-podman gpu-e2e-podman-trixie"
