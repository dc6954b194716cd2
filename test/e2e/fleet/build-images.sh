#!/bin/sh
# Builds the fleet's node images once per machine (skipped when they exist):
#   gpu-e2e-base    debootstrap bookworm with systemd, sshd, ca-certificates, gnupg, curl
#   gpu-e2e-docker  + docker.io, containerd, runc (Debian's), for the Docker and containerd nodes
set -eu
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
if ! docker image inspect gpu-e2e-base >/dev/null 2>&1; then
    root=$(mktemp -d)
    debootstrap --variant=minbase --include=systemd,systemd-sysv,openssh-server,ca-certificates,gnupg,curl,iproute2,dbus,sudo,procps,python3-minimal \
        bookworm "$root" "$mirror" >/var/log/e2e/debootstrap.log 2>&1 || { tail -n 20 /var/log/e2e/debootstrap.log >&2; exit 1; }
    # The image's apt uses the same mirror as the machine: Debian's mirrors are reachable, nothing else is.
    printf 'deb %s bookworm main\n' "$mirror" > "$root/etc/apt/sources.list"
    rm -f "$root"/etc/ssh/ssh_host_*
    tar -C "$root" -c . | docker import - gpu-e2e-base >/dev/null
    rm -rf "$root"
fi
if ! docker image inspect gpu-e2e-docker >/dev/null 2>&1; then
    docker rm -f gpu-e2e-build >/dev/null 2>&1 || true
    docker run --name gpu-e2e-build --network host gpu-e2e-base sh -c \
        'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io containerd runc >/dev/null && apt-get clean' >/var/log/e2e/build-docker.log 2>&1 \
        || { tail -n 20 /var/log/e2e/build-docker.log >&2; exit 1; }
    docker commit gpu-e2e-build gpu-e2e-docker >/dev/null
    docker rm -f gpu-e2e-build >/dev/null
fi
echo "images ready: gpu-e2e-base gpu-e2e-docker"
if ! docker image inspect gpu-e2e-rpm >/dev/null 2>&1; then
    # Debian's zypper, dnf and rpm; a node sets its /etc/os-release to RHEL or openSUSE when it starts.
    docker rm -f gpu-e2e-build >/dev/null 2>&1 || true
    docker run --name gpu-e2e-build --network host gpu-e2e-base sh -c \
        'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zypper dnf rpm >/dev/null && apt-get clean && : > /etc/zypp/systemCheck' >/var/log/e2e/build-rpm.log 2>&1 \
        || { tail -n 20 /var/log/e2e/build-rpm.log >&2; exit 1; }
    docker commit gpu-e2e-build gpu-e2e-rpm >/dev/null
    docker rm -f gpu-e2e-build >/dev/null
fi
echo "images ready: gpu-e2e-rpm"
if ! docker image inspect gpu-e2e-rootless >/dev/null 2>&1; then
    # Rootless Docker for the user alice (test-fleet.md): the setup tool runs when a node starts, under systemd.
    docker rm -f gpu-e2e-build >/dev/null 2>&1 || true
    docker run --name gpu-e2e-build --network host gpu-e2e-docker sh -c \
        'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rootlesskit uidmap dbus-user-session slirp4netns fuse-overlayfs >/dev/null && apt-get clean && useradd -m -s /bin/sh alice && cp /usr/share/docker.io/contrib/dockerd-rootless*.sh /usr/local/bin/ && chmod 755 /usr/local/bin/dockerd-rootless*.sh' >/var/log/e2e/build-rootless.log 2>&1 \
        || { tail -n 20 /var/log/e2e/build-rootless.log >&2; exit 1; }
    docker commit gpu-e2e-build gpu-e2e-rootless >/dev/null
    docker rm -f gpu-e2e-build >/dev/null
fi
echo "images ready: gpu-e2e-rootless"
