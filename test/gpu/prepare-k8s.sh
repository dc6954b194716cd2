#!/bin/sh
# Builds .gpu/k8s/ and .gpu/repo/, what the GPU suite's k8s phase carries (not the Docker bundle: 64 MiB). Cached:
#   .gpu/k8s/bin.tar.xz      kubelet v1.34.4 and NVIDIA's device plugin v0.17.4 (tools/kubernetes/setup.sh, stripped),
#                            containerd, containerd-shim-runc-v2 and ctr from Debian's containerd 1.7.24 .deb, runc 1.1.15,
#                            Kubernetes' pause.c built static: one xz stream, since the Go binaries share much code
#   .gpu/k8s/pods/           the pod specs KubernetesGpuSupport and GpuWorkload render, as static pods (test/gpu/k8sPods.ts)
#   .gpu/k8s/containerd/     the project's containerd config for that machine (nvidia as the default runtime)
#   .gpu/repo/               the NVIDIA-like repository at 1.20.0-1 with NVIDIA's real binaries (as prepare.sh makes it)
# Debian's containerd and runc are pinned in prepare.sh (DOCKER_PACKAGES), downloaded by apt, checked by its keyring.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
carry=$root/.gpu
k8s=$carry/k8s
cache=$root/.tmp/gpu-cache
debs=$cache/debs
pins=$(sed -n 's/^DOCKER_PACKAGES="\(.*\)"/\1/p' "$root/test/gpu/prepare.sh" | tr ' ' '\n' | grep -e '^containerd=' -e '^runc=' | tr '\n' ' ')
stamp=$(echo "$pins" | sha256sum | cut -c1-16)
if [ "$(cat "$debs/k8s.stamp" 2>/dev/null)" != "$stamp" ]; then
    apt_dir=$cache/apt; mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$debs"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n' >"$apt_dir/sources.list"
    o="-oDir::Etc::SourceList=$apt_dir/sources.list -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists=$apt_dir/lists -oDir::Cache=$apt_dir"
    # shellcheck disable=SC2086
    apt-get $o update -qq
    # shellcheck disable=SC2086
    (cd "$debs" && apt-get $o download $pins -qq 2>/dev/null)
    echo "$stamp" >"$debs/k8s.stamp"
fi
# The NVIDIA-like repository at 1.20.0-1, as prepare.sh carries it.
if [ ! -f "$carry/repo/fingerprint" ]; then
    sh "$root/tools/setup-toolkit-versions.sh" >/dev/null
    sh "$root/test/e2e/fleet/build-repo.sh" "$cache/repo" 1.20.0-1 >/dev/null
    rm -rf "$carry/repo.tmp" && mkdir -p "$carry/repo.tmp/stable/deb"
    cp -RL "$cache/repo/stable/deb/." "$carry/repo.tmp/stable/deb/"
    cp -L "$cache/repo/gpgkey" "$cache/repo/fingerprint" "$carry/repo.tmp/"
    rm -rf "$carry/repo" && mv "$carry/repo.tmp" "$carry/repo"
fi
KUBERNETES_SETUP_ONLY="kubelet nvidia-device-plugin" sh "$root/tools/kubernetes/setup.sh"
# shellcheck source=/dev/null
. "$root/.tmp/kubernetes.env"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$k8s" "$work/bin" "$work/deb"
for deb in "$debs"/containerd_*.deb "$debs"/runc_*.deb; do dpkg -x "$deb" "$work/deb"; done
for f in usr/bin/containerd usr/bin/containerd-shim-runc-v2 usr/bin/ctr usr/sbin/runc; do cp "$work/deb/$f" "$work/bin/"; done
cp -L "$KUBERNETES_BIN/kubelet" "$KUBERNETES_BIN/nvidia-device-plugin" "$work/bin/"
(cd "$root/tools/kubernetes/kubernetes" && go mod download k8s.io/kubernetes) # go list -m names cached modules only
pause_c=$(cd "$root/tools/kubernetes/kubernetes" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
gcc -Os -static -DVERSION=v3.10-pulumi-nvidia-gpu -o "$work/bin/pause" "$pause_c"
strip "$work/bin/pause" "$work/bin/containerd" "$work/bin/containerd-shim-runc-v2" "$work/bin/ctr" "$work/bin/runc"
# The newest glibc symbol the device plugin (cgo) needs: the machine's Ubuntu 24.04 has glibc 2.39.
echo "prepare-k8s: nvidia-device-plugin needs $(objdump -T "$work/bin/nvidia-device-plugin" | grep -o 'GLIBC_[0-9.]*' | sort -t. -k2 -n -u | tail -n 1)"
tar -C "$work" -cf - bin | xz -9 >"$k8s/bin.tar.xz.tmp"
mv "$k8s/bin.tar.xz.tmp" "$k8s/bin.tar.xz"
(cd "$root" && npx ts-node --transpile-only -e "require('./test/gpu/k8sPods').writeK8sCarry('$work/bin/containerd')")
echo "prepare-k8s: bin.tar.xz $(du -h "$k8s/bin.tar.xz" | cut -f1); carry .gpu/k8s + .gpu/repo: $(du -shc "$k8s" "$carry/repo" | tail -n 1 | cut -f1) (the device tool carries at most 64 MiB with the working tree)"
