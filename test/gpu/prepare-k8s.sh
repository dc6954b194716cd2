#!/bin/sh
# Builds .gpu/k8s/, what the GPU suite's k8s phase carries beside .gpu/ (run `npm run test:gpu -- prepare` first:
# containerd, its shim and runc come from .gpu/docker-bundle.tar.xz, NVIDIA's toolkit from .gpu/repo):
#   .gpu/k8s/bin.tar.xz      kubelet v1.34.4 and NVIDIA's device plugin v0.17.4 (tools/kubernetes/setup.sh, stripped),
#                            ctr from the same Debian containerd 1.7.24 .deb, Kubernetes' pause.c built static; xz'd
#   .gpu/k8s/pods/           the pod specs KubernetesGpuSupport and GpuWorkload render, as static pods (test/gpu/k8sPods.ts)
#   .gpu/k8s/containerd/     the project's containerd config for that machine (nvidia as the default runtime)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
carry=$root/.gpu
k8s=$carry/k8s
if [ ! -s "$carry/docker-bundle.tar.xz" ] || [ ! -d "$carry/repo" ]; then echo "prepare-k8s: run 'npm run test:gpu -- prepare' first (.gpu/docker-bundle.tar.xz, .gpu/repo)" >&2; exit 1; fi
KUBERNETES_SETUP_ONLY="kubelet nvidia-device-plugin" sh "$root/tools/kubernetes/setup.sh"
# shellcheck source=/dev/null
. "$root/.tmp/kubernetes.env"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$k8s" "$work/bin" "$work/deb"
xz -dc "$carry/docker-bundle.tar.xz" | tar -C "$work" -x bin/containerd
deb=$(find "$root/.tmp/gpu-cache/debs" -name 'containerd_*.deb' | head -n 1)
dpkg -x "$deb" "$work/deb"
cp "$work/deb/usr/bin/ctr" "$work/bin/ctr"
cp -L "$KUBERNETES_BIN/kubelet" "$KUBERNETES_BIN/nvidia-device-plugin" "$work/bin/"
pause_c=$(cd "$root/tools/kubernetes/kubernetes" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
gcc -Os -static -DVERSION=v3.10-pulumi-nvidia-gpu -o "$work/bin/pause" "$pause_c"
strip "$work/bin/pause" "$work/bin/ctr"
# The newest glibc symbol the device plugin (cgo) needs: the machine's Ubuntu 24.04 has glibc 2.39.
echo "prepare-k8s: nvidia-device-plugin needs $(objdump -T "$work/bin/nvidia-device-plugin" | grep -o 'GLIBC_[0-9.]*' | sort -t. -k2 -n -u | tail -n 1)"
tar -C "$work" -cf - bin | xz -T2 -9 >"$k8s/bin.tar.xz.tmp"
mv "$k8s/bin.tar.xz.tmp" "$k8s/bin.tar.xz"
(cd "$root" && npx ts-node --transpile-only -e "require('./test/gpu/k8sPods').writeK8sCarry('$work/bin/containerd')")
echo "prepare-k8s: bin.tar.xz $(du -h "$k8s/bin.tar.xz" | cut -f1); .gpu $(du -sh "$carry" | cut -f1) (the device tool carries at most 64 MiB with the working tree)"
