#!/bin/sh
# The images the fleet's Kubernetes node runs, built here and imported there with `ctr` (no registry is reachable),
# each a one-layer image in `docker save` layout under OUT (the first argument):
#   pause.tar    registry.k8s.io/pause:3.10, Kubernetes' own build/pause/linux/pause.c (k8s.io/kubernetes v1.34.4), static
#   plugin.tar   nvcr.io/nvidia/k8s-device-plugin:v0.17.4: NVIDIA's device plugin built by tools/kubernetes/setup.sh,
#                its C libraries from this machine (Debian bookworm, as the node); without the NVIDIA_VISIBLE_DEVICES=all
#                NVIDIA's image sets: on a node with no driver NVIDIA's real runtime refuses such a container ("could
#                not apply required modification to OCI spec"), as it should
#   mini.tar     mini:local, Debian's static busybox and an nvidia-smi STAND-IN (the validation Job runs nvidia-smi;
#                the fleet node has no GPU): it prints one line naming itself and what the runtime passed
# Needs gcc with a static libc (libc6-dev) and busybox (busybox-static). Takes about a second.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=${KUBERNETES_BIN:-$root/.tmp/kubernetes/bin}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# image NAME REF ROOTFS ENTRYPOINT_JSON ENV_JSON: OUT/NAME.tar, a one-layer image tagged REF.
image() {
    d=$work/$1
    mkdir -p "$d"
    tar -C "$3" --owner=0 --group=0 -cf "$d/layer.tar" .
    diff=$(sha256sum "$d/layer.tar" | cut -d ' ' -f 1)
    printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s,"Env":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$4" "$5" "$diff" >"$d/config.json"
    cfg=$(sha256sum "$d/config.json" | cut -d ' ' -f 1)
    mv "$d/config.json" "$d/$cfg.json"
    printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$cfg" "$2" >"$d/manifest.json"
    tar -C "$d" -cf "$out/$1.tar" manifest.json "$cfg.json" layer.tar
}

# go mod download first: go list -m names cached modules only (a cold module cache gives an empty Dir).
pause_c=$(cd "$root/tools/kubernetes/kubernetes" && go mod download k8s.io/kubernetes && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
mkdir -p "$work/pause-root"
gcc -Os -static -DVERSION=v3.10-pulumi-nvidia-gpu -o "$work/pause-root/pause" "$pause_c"
image pause registry.k8s.io/pause:3.10 "$work/pause-root" '["/pause"]' '["PATH=/"]'

r=$work/plugin-root
mkdir -p "$r/usr/bin"
cp "$bin/nvidia-device-plugin" "$r/usr/bin/"
ldd "$bin/nvidia-device-plugin" | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' | while read -r lib; do
    mkdir -p "$r$(dirname "$lib")"
    cp -L "$lib" "$r$lib"
done
for d in lib lib64 bin; do [ -e "$r/$d" ] || [ ! -L "/$d" ] || ln -s "$(readlink "/$d")" "$r/$d"; done
image plugin nvcr.io/nvidia/k8s-device-plugin:v0.17.4 "$r" '["/usr/bin/nvidia-device-plugin"]' '["PATH=/usr/bin:/bin"]'

mkdir -p "$work/mini-root/bin" "$work/mini-root/usr/bin"
cp "$(command -v busybox)" "$work/mini-root/bin/busybox"
cat >"$work/mini-root/usr/bin/nvidia-smi" <<'SMI'
#!/bin/busybox sh
echo "nvidia-smi STAND-IN (test/k8s/node/build-images.sh): no GPU on this fleet node; NVIDIA_VISIBLE_DEVICES=${NVIDIA_VISIBLE_DEVICES:-unset}"
SMI
chmod 0755 "$work/mini-root/usr/bin/nvidia-smi"
image mini mini:local "$work/mini-root" 'null' '["PATH=/usr/bin:/bin"]'
ls "$out"
