#!/bin/sh
# Builds .gpu/k8s/, what the GPU suite's k8s phase carries with .gpu/repo (run `npm run test:gpu -- prepare` first:
# it downloads Debian's .debs and builds the NVIDIA-like repository). Carry `.gpu/k8s` and `.gpu/repo` only (64 MiB):
#   .gpu/k8s/bin.tar.xz      kubelet v1.34.4 and NVIDIA's device plugin v0.17.4 (tools/kubernetes/setup.sh, stripped),
#                            containerd, containerd-shim-runc-v2 and ctr from Debian's containerd 1.7.24 .deb, runc 1.1.15,
#                            Kubernetes' pause.c built static: one xz stream, since the Go binaries share much code
#   .gpu/k8s/pods/           the pod specs KubernetesGpuSupport and GpuWorkload render, as static pods (test/gpu/k8sPods.ts)
#   .gpu/k8s/containerd/     the project's containerd config for that machine (nvidia as the default runtime)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
carry=$root/.gpu
k8s=$carry/k8s
debs=$root/.tmp/gpu-cache/debs
if [ ! -d "$carry/repo" ] || [ -z "$(find "$debs" -name 'containerd_*.deb' 2>/dev/null)" ]; then
    echo "prepare-k8s: run 'npm run test:gpu -- prepare' first (.gpu/repo, .tmp/gpu-cache/debs)" >&2; exit 1
fi
KUBERNETES_SETUP_ONLY="kubelet nvidia-device-plugin" sh "$root/tools/kubernetes/setup.sh"
# shellcheck source=/dev/null
. "$root/.tmp/kubernetes.env"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$k8s" "$work/bin" "$work/deb"
for deb in "$debs"/containerd_*.deb "$debs"/runc_*.deb; do dpkg -x "$deb" "$work/deb"; done
for f in usr/bin/containerd usr/bin/containerd-shim-runc-v2 usr/bin/ctr usr/sbin/runc; do cp "$work/deb/$f" "$work/bin/"; done
cp -L "$KUBERNETES_BIN/kubelet" "$KUBERNETES_BIN/nvidia-device-plugin" "$work/bin/"
pause_c=$(cd "$root/tools/kubernetes/kubernetes" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
gcc -Os -static -DVERSION=v3.10-pulumi-nvidia-gpu -o "$work/bin/pause" "$pause_c"
strip "$work/bin/pause" "$work/bin/containerd" "$work/bin/containerd-shim-runc-v2" "$work/bin/ctr" "$work/bin/runc"
# The newest glibc symbol the device plugin (cgo) needs: the machine's Ubuntu 24.04 has glibc 2.39.
echo "prepare-k8s: nvidia-device-plugin needs $(objdump -T "$work/bin/nvidia-device-plugin" | grep -o 'GLIBC_[0-9.]*' | sort -t. -k2 -n -u | tail -n 1)"
tar -C "$work" -cf - bin | xz -9e >"$k8s/bin.tar.xz.tmp"
mv "$k8s/bin.tar.xz.tmp" "$k8s/bin.tar.xz"
(cd "$root" && npx ts-node --transpile-only -e "require('./test/gpu/k8sPods').writeK8sCarry('$work/bin/containerd')")
echo "prepare-k8s: bin.tar.xz $(du -h "$k8s/bin.tar.xz" | cut -f1); carry .gpu/k8s + .gpu/repo: $(du -shc "$k8s" "$carry/repo" | tail -n 1 | cut -f1) (the device tool carries at most 64 MiB with the working tree)"
