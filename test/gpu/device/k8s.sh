#!/bin/sh
# The real-GPU suite's k8s phase (issue 25), on the GPU machine as root from the repo's root, carrying .gpu/k8s and
# .gpu/repo (npm run test:gpu -- prepare, then prepare-k8s):
#   sh test/gpu/device/k8s.sh
# containerd 1.7.24 with the project's config (nvidia the default runtime), NVIDIA's toolkit 1.20.0 (real binaries),
# a standalone kubelet v1.34.4 with static pods rendered by KubernetesGpuSupport and GpuWorkload, NVIDIA's device
# plugin v0.17.4 advertising nvidia.com/gpu, a CUDA pod on one GPU, then time-slicing (replicas 2): two pods on one GPU.
# Results: $OUT/results.txt (PASS/FAIL lines), $OUT/run.log, $OUT/artifacts.tar.gz. Only reads GPU state.
# shellcheck disable=SC2015 # `cond && pass || fail`: pass only appends a line, so fail never runs after a pass
set -u
carry=.gpu
k8s=$carry/k8s
out=${OUT:-/tmp/gpu-out}
work=/tmp/gpu-k8s
node=gpu-node
manifests=/etc/kubernetes/manifests
checkpoint=/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint
mkdir -p "$out" "$work"
results=$out/results.txt
rm -f "$results"
exec 3>>"$out/run.log"
log() { echo "$*" >&3; echo "$*"; }
pass() { echo "PASS $1 ${2:-}" >>"$results"; log "PASS $1 ${2:-}"; }
fail() { echo "FAIL $1 ${2:-}" >>"$results"; log "FAIL $1 ${2:-}"; }
save() { tar -C "$work" -czf "$out/artifacts.tar.gz" . 2>/dev/null; }
export PATH="/usr/local/bin:$PATH"

# mkimage REF ROOTFS ENTRYPOINT_JSON ENV_JSON: a one-layer image in docker-save layout, imported for the CRI (no registry there).
mkimage() {
    d=$(mktemp -d)
    tar -C "$2" -cf "$d/layer.tar" .
    diff=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
    printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s,"Env":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$3" "$4" "$diff" >"$d/config.json"
    cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
    mv "$d/config.json" "$d/$cfg.json"
    printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$cfg" "$1" >"$d/manifest.json"
    tar -C "$d" -cf "$d.tar" manifest.json "$cfg.json" layer.tar
    ctr -n k8s.io images import "$d.tar" >>"$work/images.log" 2>&1
    rc=$?; rm -rf "$d" "$d.tar"; return $rc
}

# libs_into ROOT BINARY...: the C libraries (and loader) the binaries link, from this machine, plus an ld.so.conf.
libs_into() {
    r=$1; shift
    mkdir -p "$r/etc/ld.so.conf.d" "$r/tmp"
    printf 'include /etc/ld.so.conf.d/*.conf\n' >"$r/etc/ld.so.conf"
    for b in "$@"; do ldd "$b"; done | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' | grep -v -e libcuda -e libnvidia | sort -u | while read -r lib; do
        mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"
    done
    for d in lib lib64 bin; do [ -e "$r/$d" ] || [ ! -L "/$d" ] || ln -s "$(readlink "/$d")" "$r/$d"; done
}

# registered: "COUNT ID..." of nvidia.com/gpu in the kubelet's device checkpoint.
registered() {
    python3 - "$checkpoint" <<'PY' 2>/dev/null
import json, sys
ids = sorted(json.load(open(sys.argv[1]))["Data"]["RegisteredDevices"].get("nvidia.com/gpu", []))
print(len(ids), " ".join(ids))
PY
}

# pod_log POD CONTAINER: the container's first log, once it has exited (static pods are named POD-<node>).
pod_log() { cat /var/log/pods/*_"$1-$node"_*/"$2"/0.log 2>/dev/null; }
wait_log() { n=0; until pod_log "$1" "$1" | grep -q -e 'saxpy ok' -e 'error' -e 'devices 0' || [ $n -ge "$2" ]; do n=$((n + 1)); sleep 1; done; }

# cuda_ok POD: (CRI log lines: time stream tag, then the check's words) the pod's CUDA check saw exactly one GPU and its kernel was right; prints that GPU's UUID.
cuda_ok() { pod_log "$1" "$1" >"$work/$1.log"; grep -q ' devices 1$' "$work/$1.log" && awk '$4 == "gpu" && $8 == "saxpy" && $9 == "ok" {print $6}' "$work/$1.log" | head -n 1 | grep GPU-; }

setup() {
    xz -dc "$k8s/bin.tar.xz" | tar -C /usr/local -x
    # NVIDIA's toolkit 1.20.0 (real nvidia-container-runtime, nvidia-ctk, hooks; libnvidia-container is a named stand-in).
    dpkg -i "$carry"/repo/stable/deb/amd64/*_1.20.0-1_amd64.deb >"$work/dpkg.log" 2>&1 || { tail -n 5 "$work/dpkg.log"; return 1; }
    mkdir -p /etc/containerd/conf.d
    cp "$k8s/containerd/config.toml" /etc/containerd/config.toml
    cp "$k8s/containerd/99-nvidia.toml" /etc/containerd/conf.d/99-nvidia.toml
    # The machine withholds CAP_SYS_RESOURCE: its config.toml (the carry's, test/gpu/k8sPods.ts) sets containerd's
    # restrict_oom_score_adj, which the project's drop-in copies with the rest of the CRI section. Run 3 of 2026-12-07
    # set it in a drop-in of its own, read after the project's: containerd 1.7 replaced the whole CRI section with it,
    # and every pod ran on plain runc, without the nvidia runtime.
    grep -E '^Cap(Eff|Bnd)' /proc/self/status >"$work/capabilities.txt"
    # Diagnostics for the runtime's choices (run 3 of 2026-12-07: pods started, but nothing was injected into them):
    # its debug log, its config and the loader's view of NVML, all in the artifacts.
    nvidia-ctk config --in-place --set nvidia-container-runtime.debug="$work/nvidia-container-runtime.log" --set nvidia-container-runtime.log-level=debug \
        >>"$work/dpkg.log" 2>&1
    cp /etc/nvidia-container-runtime/config.toml "$work/nvidia-container-runtime.toml" 2>/dev/null
    { echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"; ldconfig -p | grep -e libnvidia-ml -e libcuda; } >"$work/loader.txt" 2>&1
    setsid containerd --config /etc/containerd/config.toml >"$work/containerd.log" 2>&1 </dev/null &
    n=0; until ctr version >/dev/null 2>&1 || [ $n -ge 40 ]; do n=$((n + 1)); sleep 0.25; done
    ctr version >/dev/null 2>&1
}

images() {
    p=$work/pause-root; mkdir -p "$p"; cp /usr/local/bin/pause "$p/pause"
    mkimage registry.k8s.io/pause:3.8 "$p" '["/pause"]' '["PATH=/"]' && mkimage registry.k8s.io/pause:3.10 "$p" '["/pause"]' '["PATH=/"]' || return 1
    # NVIDIA's image sets these, so the runtime gives the plugin every GPU's NVML (the manifests do not).
    r=$work/plugin-root; mkdir -p "$r/usr/bin"; cp /usr/local/bin/nvidia-device-plugin "$r/usr/bin/"
    # With NVML's own C libraries (libm, librt, …), as NVIDIA's distroless image has the whole C library: run 4 of
    # 2026-12-07 carried only the plugin's, so its dlopen of the injected libnvidia-ml.so.1 failed ("Incompatible
    # strategy detected auto"). The check image already adds libcuda's (build-image.sh).
    libs_into "$r" /usr/local/bin/nvidia-device-plugin "$(ldconfig -p | awk '/libnvidia-ml.so.1 / {print $NF; exit}')"
    mkimage nvcr.io/nvidia/k8s-device-plugin:v0.17.4 "$r" '["/usr/bin/nvidia-device-plugin"]' \
        '["PATH=/usr/bin:/bin","NVIDIA_VISIBLE_DEVICES=all","NVIDIA_DRIVER_CAPABILITIES=utility","NVIDIA_DISABLE_REQUIRE=true"]' || return 1
    sh test/gpu/device/build-image.sh "$work/check-root" || return 1
    mkimage gpu-check:local "$work/check-root" '["/usr/local/bin/cudacheck"]' '["PATH=/usr/local/bin:/usr/bin:/bin"]'
}

kubelet_start() {
    mkdir -p "$manifests" /var/lib/kubelet
    cat >/etc/kubernetes/kubelet.yaml <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: $manifests
fileCheckFrequency: 2s
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
address: 127.0.0.1
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication: { anonymous: { enabled: true }, webhook: { enabled: false } }
authorization: { mode: AlwaysAllow }
evictionHard: { memory.available: "1%", nodefs.available: "1%", imagefs.available: "1%" }
localStorageCapacityIsolation: false
resolvConf: ""
YAML
    # The label labelNodes gives: the rendered pods select it, and a standalone kubelet admits by its own labels.
    setsid kubelet --config=/etc/kubernetes/kubelet.yaml --hostname-override=$node --node-labels=nvidia-gpu.pulumi.com/provisioned=true --v=2 >"$work/kubelet.log" 2>&1 </dev/null &
    n=0; until curl -fsS http://127.0.0.1:10248/healthz >/dev/null 2>&1 || [ $n -ge 60 ]; do n=$((n + 1)); sleep 1; done
    curl -fsS http://127.0.0.1:10248/healthz >/dev/null 2>&1
}

# wait_registered N: until the kubelet's checkpoint lists N nvidia.com/gpu devices (60 s).
wait_registered() { n=0; until [ "$(registered | cut -d' ' -f1)" = "$1" ] || [ $n -ge 60 ]; do n=$((n + 1)); sleep 1; done; [ "$(registered | cut -d' ' -f1)" = "$1" ]; }

{
    echo "date: $(date -u +%FT%TZ)"; uname -a; grep PRETTY_NAME /etc/os-release
    nvidia-smi --query-gpu=index,name,uuid,driver_version,mig.mode.current --format=csv,noheader
    nvcc --version | tail -n 1; stat -fc 'cgroup fs: %T' /sys/fs/cgroup
} >"$out/machine.txt" 2>&1
gpus=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | wc -l)
gpu0=$(nvidia-smi -i 0 --query-gpu=uuid --format=csv,noheader)

# What containerd loads from those files, as the project's verify step reads it: nvidia registered and the default.
loaded_default() { containerd --config /etc/containerd/config.toml config dump 2>/dev/null | sed -n 's/^ *default_runtime_name = //p' | tr -d \"\' | head -n 1; }
if setup; then pass containerd-with-project-config "$(containerd --version | cut -d' ' -f3), $(nvidia-container-runtime --version 2>&1 | head -n 1)"; else fail containerd-with-project-config "$(tail -n 3 "$work/containerd.log" | tr '\n' ' ')"; fi
if [ "$(loaded_default)" = nvidia ] && containerd --config /etc/containerd/config.toml config dump 2>/dev/null | grep -qF 'runtimes.nvidia]'; then
    pass containerd-loads-nvidia-default "default_runtime_name nvidia"
else
    fail containerd-loads-nvidia-default "containerd loads default '$(loaded_default)'"
fi
if images; then pass images-imported "$(ctr -n k8s.io images ls -q | tr '\n' ' ')"; else fail images-imported "$(tail -n 3 "$work/images.log" | tr '\n' ' ')"; fi
if kubelet_start; then pass kubelet-standalone "$(kubelet --version)"; else fail kubelet-standalone "$(tail -n 5 "$work/kubelet.log" | tr '\n' ' ')"; fi
save

# 1. The device plugin as KubernetesGpuSupport renders it advertises every GPU; a CUDA pod gets one of them.
cp "$k8s/pods/device-plugin.json" "$manifests/"
if wait_registered "$gpus"; then pass plugin-advertises-gpus "$(registered)"; else fail plugin-advertises-gpus "want $gpus, got '$(registered)': $(pod_log nvidia-device-plugin nvidia-device-plugin | tail -n 3 | tr '\n' ' ')"; fi
# What the CRI handed the runtime: each container's OCI spec (env, mounts, hooks), for the artifacts.
ctr -n k8s.io containers ls -q | while read -r c; do ctr -n k8s.io containers info "$c"; done >"$work/containers.json" 2>&1
# What NVIDIA's runtime handed runc (it rewrites each bundle's config.json) and what the plugin's root then held.
mkdir -p "$work/bundles"
for b in /run/containerd/io.containerd.runtime.v2.task/k8s.io/*/; do
    id=$(basename "$b"); cp "$b/config.json" "$work/bundles/$id.json" 2>/dev/null
    { ls -la "$b/rootfs/usr/local/nvidia/lib64" "$b/rootfs/etc/ld.so.conf.d" 2>&1; cat "$b/rootfs/etc/ld.so.conf.d/"* 2>&1
      ldconfig -p -C "$b/rootfs/etc/ld.so.cache" 2>&1 | grep -e nvidia -e libm -e librt -e libdl; } >"$work/bundles/$id.rootfs.txt" 2>&1
done
cp "$k8s/pods/cuda.json" "$manifests/"
wait_log cuda 120
if uuid=$(cuda_ok cuda); then pass cuda-pod-one-gpu "$uuid"; else fail cuda-pod-one-gpu "$(tail -n 3 "$work/cuda.log" | tr '\n' ' ')"; fi
cp "$checkpoint" "$work/checkpoint-plain.json" 2>/dev/null
pod_log nvidia-device-plugin nvidia-device-plugin >"$work/device-plugin.log"
save

# 2. Time-slicing, replicas 2, the plugin given GPU 0 only: 2 devices advertised, two CUDA pods both on that GPU.
rm -f "$manifests/cuda.json" "$manifests/device-plugin.json"
mkdir -p /etc/nvidia-device-plugin
cp "$k8s/pods/sharing-config.yaml" /etc/nvidia-device-plugin/config.yaml
sleep 5
cp "$k8s/pods/device-plugin-sharing.json" "$manifests/"
if wait_registered 2 && registered | grep -q '::'; then pass time-slicing-advertises-2 "$(registered)"; else fail time-slicing-advertises-2 "got '$(registered)'"; fi
cp "$k8s/pods/cuda-a.json" "$k8s/pods/cuda-b.json" "$manifests/"
wait_log cuda-a 120; wait_log cuda-b 60
a=$(cuda_ok cuda-a); b=$(cuda_ok cuda-b)
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$gpu0" ]; then pass two-pods-one-gpu "$a"; else fail two-pods-one-gpu "cuda-a '$a', cuda-b '$b', GPU 0 $gpu0"; fi
cp "$checkpoint" "$work/checkpoint-sharing.json" 2>/dev/null
pod_log nvidia-device-plugin nvidia-device-plugin >"$work/device-plugin-sharing.log"

rm -f "$manifests"/*.json
sleep 5
kill "$(pgrep -x kubelet)" 2>/dev/null
sleep 2
kill "$(pgrep -x containerd)" 2>/dev/null
cp "$out/machine.txt" "$work/"
save
log "$(grep -c '^PASS' "$results") passed, $(grep -c '^FAIL' "$results") failed"
! grep -q '^FAIL' "$results"
