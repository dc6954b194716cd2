#!/bin/sh
# Builds .gpu/, what travels to the GPU machine for the real-GPU suite (test/gpu/README.md). Cached, idempotent.
#   .gpu/docker-bundle.tar.xz  Docker from Debian's .debs: docker.io and docker-cli 26.1.5, containerd 1.7.24, runc 1.1.15 (trixie),
#                              downloaded by apt from the Debian mirror, signatures checked against Debian's archive
#                              keyring; only the five binaries a daemon needs, xz-compressed (the 64 MiB limit)
#   .gpu/repo/                 the NVIDIA-like apt repository (stable, 1.20.0-1) of test/e2e/fleet/build-repo.sh,
#                              whose packages carry NVIDIA's real binaries built from the Go module proxy
# Versions are pinned here; a changed pin rebuilds.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
carry=$root/.gpu
cache=$root/.tmp/gpu-cache
mkdir -p "$carry" "$cache"
DOCKER_PACKAGES="docker.io=26.1.5+dfsg1-9+deb13u1+b1 docker-cli=26.1.5+dfsg1-9+deb13u1+b1 containerd=1.7.24~ds1-6+deb13u1 runc=1.1.15+ds1-2+b4"
# docker-proxy publishes the workload containers' ports (issue 27); it is part of the stamp, so old bundles rebuild.
stamp=$(echo "$DOCKER_PACKAGES docker-proxy" | sha256sum | cut -c1-16)

if [ "$(cat "$carry/docker-bundle.stamp" 2>/dev/null)" != "$stamp" ]; then
    apt_dir=$cache/apt; mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$cache/debs"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n' >"$apt_dir/sources.list"
    o="-oDir::Etc::SourceList=$apt_dir/sources.list -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists=$apt_dir/lists -oDir::Cache=$apt_dir"
    # shellcheck disable=SC2086
    apt-get $o update -qq
    # shellcheck disable=SC2086
    (cd "$cache/debs" && apt-get $o download $DOCKER_PACKAGES -qq 2>/dev/null)
    x=$(mktemp -d); trap 'rm -rf "$x"' EXIT
    for deb in "$cache"/debs/docker.io_*.deb "$cache"/debs/docker-cli_*.deb "$cache"/debs/containerd_*.deb "$cache"/debs/runc_*.deb; do dpkg -x "$deb" "$x/root"; done
    mkdir -p "$x/bundle/bin"
    for f in usr/sbin/dockerd usr/sbin/docker-proxy usr/bin/docker usr/bin/containerd usr/bin/containerd-shim-runc-v2 usr/sbin/runc; do cp "$x/root/$f" "$x/bundle/bin/"; done
    tar -C "$x/bundle" -cf - bin | xz -T2 -9e >"$carry/docker-bundle.tar.xz.tmp"
    mv "$carry/docker-bundle.tar.xz.tmp" "$carry/docker-bundle.tar.xz"
    echo "$stamp" >"$carry/docker-bundle.stamp"
fi
echo "docker bundle: $(du -h "$carry/docker-bundle.tar.xz" | cut -f1) ($DOCKER_PACKAGES)"

# The NVIDIA-like repository at 1.20.0-1 with the real binaries; only what an apt host reads from it travels.
sh "$root/tools/setup-toolkit-versions.sh" >/dev/null
sh "$root/test/e2e/fleet/build-repo.sh" "$cache/repo" 1.20.0-1 >/dev/null
rm -rf "$carry/repo.tmp"
mkdir -p "$carry/repo.tmp/stable/deb"
cp -RL "$cache/repo/stable/deb/." "$carry/repo.tmp/stable/deb/"
cp -L "$cache/repo/gpgkey" "$cache/repo/fingerprint" "$carry/repo.tmp/"
rm -rf "$carry/repo"
mv "$carry/repo.tmp" "$carry/repo"
echo "repository: $(du -sh "$carry/repo" | cut -f1), key $(cat "$carry/repo/fingerprint")"
# A static busybox for the workload image (a shell, httpd, find inside the containers): the machine has no registry.
if ! file -L /bin/busybox | grep -q 'statically linked'; then echo "prepare: /bin/busybox must be static (apt-get install busybox-static)" >&2; exit 1; fi
cp -L /bin/busybox "$carry/busybox"
echo ".gpu: $(du -sh "$carry" | cut -f1) (the device tool carries at most 64 MiB with the working tree)"
