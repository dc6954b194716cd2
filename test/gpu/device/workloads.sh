#!/bin/sh
# The real-GPU suite's workload checks (issue 27), sourced by run.sh's apply phase once the plan has run: the containers
# of test/gpu/gpuWorkloads.ts, started by their steps exactly as DockerGpuContainer sends them, then checked inside.
# Uses run.sh's pass/fail/check/log, $carry, $work. Only reads GPU state.
# shellcheck disable=SC2015,SC2154 # `cond && pass || fail` as in run.sh; carry and work are run.sh's
wl_step() { timeout 120 sh -c "$(cat "$carry/workloads/$1.cmd")" <"$carry/workloads/$1.sh" >"$work/$1.out" 2>&1; }
wl_undo() { timeout 60 sh -c "$(cat "$carry/workloads/$1.undo.cmd")" </dev/null >>"$work/$1.out" 2>&1; }
in_wl() { name=$1; shift; docker exec "$name" /usr/bin/busybox sh -c "$*"; }

# PATH and LD_LIBRARY_PATH as NVIDIA's CUDA base images set them: a driver under /usr/local/nvidia (as on the GPU
# machine) is mounted at the host's paths, so nvidia-smi is /usr/local/nvidia/bin/nvidia-smi inside.
CUDA_IMAGE_PATH=/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CUDA_IMAGE_LD_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64

build_wl_image() {
    cc -O2 -o "$work/nvdeccheck" test/gpu/device/nvdeccheck.c -ldl || return 1
    docker rm -f wl-build >/dev/null 2>&1
    docker create --name wl-build gpu-check:local >/dev/null &&
        docker cp "$carry/busybox" wl-build:/usr/bin/busybox && docker cp "$work/nvdeccheck" wl-build:/usr/local/bin/nvdeccheck &&
        docker commit --change 'ENTRYPOINT []' --change "ENV PATH=$CUDA_IMAGE_PATH" --change "ENV LD_LIBRARY_PATH=$CUDA_IMAGE_LD_PATH" wl-build gpu-wl:local >/dev/null
    rc=$?; docker rm -f wl-build >/dev/null 2>&1; return $rc
}

phase_workloads() {
    check wl-image build_wl_image || return
    mkdir -p /tmp/gpu-wl/www && echo "served-by-gpu-wl-$$" >/tmp/gpu-wl/www/index.html
    docker network create gpu-wl >"$work/wl-network.log" 2>&1 || log "network gpu-wl: $(cat "$work/wl-network.log")"
    while read -r name; do
        wl_step "$name" && pass "$name-started" || fail "$name-started" "$(tail -n 2 "$work/$name.out" | tr '\n' ' ')"
    done <"$carry/workloads/names.txt"

    # Port and volume: served over the loopback from the read-only bind mount; the mount refuses writes.
    body=""; n=0
    while [ -z "$body" ] && [ $n -lt 20 ]; do body=$(curl -fsS --max-time 2 http://127.0.0.1:18290/index.html 2>>"$work/wl-serve.curl"); n=$((n + 1)); [ -n "$body" ] || sleep 0.5; done
    [ "$body" = "$(cat /tmp/gpu-wl/www/index.html)" ] && pass wl-serve-port-volume "127.0.0.1:18290 -> $body" || fail wl-serve-port-volume "got '$body': $(tail -n 1 "$work/wl-serve.curl")"
    in_wl wl-serve "touch /www/x" 2>/dev/null && fail wl-serve-read-only || pass wl-serve-read-only
    gpu_dev=$(in_wl wl-serve "ls /dev | grep -E '^nvidia[0-9]+\$'" 2>/dev/null | tr '\n' ' ')
    [ -n "$gpu_dev" ] && pass wl-serve-gpu "CDI nvidia.com/gpu=0: $gpu_dev" || fail wl-serve-gpu "no /dev/nvidiaN"

    # NGC: host IPC, memlock unlimited, stack 64 MiB, CUDA inside; /dev/shm 8 GiB in the other.
    # The daemon's IPC namespace is this script's (it started dockerd); PID 1 there is the machine's own agent, in another.
    host_ipc=$(readlink /proc/$$/ns/ipc); ngc_ipc=$(docker exec wl-ngc /usr/bin/busybox readlink /proc/1/ns/ipc 2>&1)
    [ -n "$host_ipc" ] && [ "$ngc_ipc" = "$host_ipc" ] && pass wl-ngc-ipc-host "$ngc_ipc" || fail wl-ngc-ipc-host "container $ngc_ipc, host $host_ipc"
    in_wl wl-ngc "grep -i 'locked memory' /proc/self/limits" | grep -q 'unlimited *unlimited' && pass wl-ngc-memlock || fail wl-ngc-memlock
    in_wl wl-ngc "grep -i 'max stack' /proc/self/limits" | grep -q '67108864 *67108864' && pass wl-ngc-stack || fail wl-ngc-stack
    docker exec wl-ngc /usr/local/bin/cudacheck >"$work/wl-ngc-cuda.log" 2>&1 && grep -q 'saxpy ok' "$work/wl-ngc-cuda.log" && pass wl-ngc-cuda "$(grep -c 'saxpy ok' "$work/wl-ngc-cuda.log") GPUs" || fail wl-ngc-cuda "$(tail -n 2 "$work/wl-ngc-cuda.log" | tr '\n' ' ')"
    in_wl wl-shm "df -m /dev/shm | tail -n 1" | grep -q ' 8192 ' && pass wl-shm-8g || fail wl-shm-8g "$(in_wl wl-shm 'df -m /dev/shm | tail -n 1')"

    # Capabilities: what each brings inside (logged whole), and what must be there.
    for name in wl-caps-all wl-caps-graphics wl-caps-video wl-caps-cdi-all; do
        in_wl "$name" "echo \"caps=\$NVIDIA_DRIVER_CAPABILITIES\"; /usr/bin/busybox find / -xdev \\( -name 'lib*nvidia*' -o -name 'libcuda*' -o -name 'libnvcuvid*' -o -name 'nvidia*.icd' -o -name 'nvidia_icd*.json' -o -name '10_nvidia.json' -o -name nvidia-smi \\) 2>/dev/null | sort" >"$work/$name.files" 2>&1
        in_wl "$name" "nvidia-smi -L" >"$work/$name.smi" 2>&1 && pass "$name-nvidia-smi" "$(head -n 1 "$work/$name.smi")" || fail "$name-nvidia-smi" "$(tail -n 1 "$work/$name.smi")"
    done
    for name in wl-caps-all wl-caps-cdi-all; do
        for lib in libcuda.so.1 libnvidia-opencl.so.1 libEGL_nvidia.so.0 libGLX_nvidia.so.0 libnvcuvid.so.1 libnvidia-encode.so.1; do
            grep -q "/$lib\$" "$work/$name.files" && pass "$name-$lib" || fail "$name-$lib"
        done
        grep -q 'nvidia_icd.*json$' "$work/$name.files" && pass "$name-vulkan-icd" || fail "$name-vulkan-icd" "(the host's driver may not ship it)"
        if [ ! -e /etc/OpenCL/vendors/nvidia.icd ]; then
            pass "$name-opencl-icd" "not applicable: the host's driver installed no /etc/OpenCL/vendors/nvidia.icd"
        else
            grep -q 'nvidia.icd$' "$work/$name.files" && pass "$name-opencl-icd" || fail "$name-opencl-icd" "(/etc/OpenCL/vendors/nvidia.icd: toolkit >= 1.20 mounts the host's)"
        fi
    done
    grep -q '/libEGL_nvidia.so.0$\|/libGLX_nvidia.so.0$' "$work/wl-caps-graphics.files" && pass wl-caps-graphics-libs || fail wl-caps-graphics-libs
    grep -q '/libnvcuvid.so.1$' "$work/wl-caps-video.files" && pass wl-caps-video-libs || fail wl-caps-video-libs
    # NVDEC (and the JPEG decoder) through libnvcuvid; H100/H200 have no NVENC, so encode is not checked.
    docker exec wl-caps-video /usr/local/bin/nvdeccheck >"$work/wl-nvdec.log" 2>&1 && grep -q 'nvdec h264 supported=1' "$work/wl-nvdec.log" && pass wl-caps-video-nvdec "$(tr '\n' ' ' <"$work/wl-nvdec.log")" || fail wl-caps-video-nvdec "$(tr '\n' ' ' <"$work/wl-nvdec.log")"

    # The same spec leaves a container running; then every workload is removed.
    wl_step wl-ngc && grep -q 'unchanged: container wl-ngc' "$work/wl-ngc.out" && pass wl-unchanged-spec-kept || fail wl-unchanged-spec-kept "$(tail -n 1 "$work/wl-ngc.out")"
    while read -r name; do wl_undo "$name"; done <"$carry/workloads/names.txt"
    docker network rm gpu-wl >/dev/null 2>&1
    [ -z "$(docker ps -aq --filter name=wl-)" ] && pass wl-removed || fail wl-removed "$(docker ps -a --filter name=wl- --format '{{.Names}}' | tr '\n' ' ')"
    rm -rf /tmp/gpu-wl
}
