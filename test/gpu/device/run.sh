#!/bin/sh
# The real-GPU suite's device half (issue 16), run on the GPU machine as root from the repo's root:
# shellcheck disable=SC2015 # `cond && pass || fail`: pass only appends a line, so fail never runs after a pass
#   sh test/gpu/device/run.sh snapshot   set the machine up as a user's Docker host, read it (the components' script)
#   sh test/gpu/device/run.sh apply      the plan built from that snapshot: apply, CUDA in containers, re-apply, destroy
#   sh test/gpu/device/run.sh driver     only the plans' driver steps and their undo (when device time is short)
# Results: $OUT/results.txt (PASS/FAIL lines), $OUT/run.log, $OUT/artifacts.tar.gz (snapshots, step logs).
# Only reads GPU state: never changes GPU settings or MIG mode, never resets a GPU.
set -u
carry=.gpu
out=${OUT:-/tmp/gpu-out}
work=/tmp/gpu-suite
mkdir -p "$out" "$work"
results=$out/results.txt
exec 3>>"$out/run.log"
log() { echo "$*" >&3; echo "$*"; }
pass() { echo "PASS $1 ${2:-}" >>"$results"; log "PASS $1 ${2:-}"; }
fail() { echo "FAIL $1 ${2:-}" >>"$results"; log "FAIL $1 ${2:-}"; }
check() { name=$1; shift; if "$@" >>"$work/$name.log" 2>&1; then pass "$name"; else fail "$name" "$(tail -n 3 "$work/$name.log" | tr '\n' ' ')"; fi; }

# The user's own daemon.json, there before the plan: destroy must give it back byte for byte. The machine has no
# network (no bridge, no iptables; published ports go through docker-proxy, carried) and no systemd (cgroupfs: runc cannot ask systemd for a scope).
ORIGINAL_DAEMON_JSON='{
  "log-driver": "json-file",
  "log-opts": { "max-size": "10m", "max-file": "3" },
  "bridge": "none",
  "iptables": false,
  "ip6tables": false,
  "exec-opts": ["native.cgroupdriver=cgroupfs"]
}'

# What a plan may touch, as a checksum manifest (the "writes nothing" check compares two of them).
manifest() {
    find /etc/docker /etc/nvidia-container-runtime /etc/cdi /var/run/cdi /etc/apt/sources.list.d /etc/apt/preferences.d /etc/apt/apt.conf.d \
        /usr/share/keyrings /var/lib/pulumi-nvidia-gpu -type f 2>/dev/null | LC_ALL=C sort | xargs -r sha256sum
}

setup() {
    export PATH="/usr/local/bin:$PATH"
    if ! command -v dockerd >/dev/null 2>&1; then
        # Docker from Debian's .debs (trixie's docker.io 26.1.5, containerd 1.7.24, runc 1.1.15), carried as binaries.
        xz -dc "$carry/docker-bundle.tar.xz" | tar -C /usr/local -x
    fi
    install -m 755 test/gpu/device/systemctl /usr/local/bin/systemctl
    mkdir -p /run/systemd/system
    if [ ! -e /etc/docker/daemon.json ]; then mkdir -p /etc/docker; printf '%s\n' "$ORIGINAL_DAEMON_JSON" >/etc/docker/daemon.json; fi
    systemctl start docker || { tail -n 30 /var/log/dockerd.log; return 1; }
    if ! curl -fsS "http://127.0.0.1:18200/fingerprint" >/dev/null 2>&1; then
        (cd "$carry/repo" && setsid python3 -m http.server 18200 --bind 127.0.0.1 >/var/log/gpu-repo.log 2>&1 </dev/null &)
        n=0; until curl -fsS "http://127.0.0.1:18200/fingerprint" >/dev/null 2>&1 || [ $n -ge 40 ]; do n=$((n + 1)); sleep 0.25; done
    fi
}

machine_facts() {
    {
        echo "date: $(date -u +%FT%TZ)"; uname -a; grep PRETTY_NAME /etc/os-release
        nvidia-smi --query-gpu=index,name,uuid,driver_version,mig.mode.current --format=csv,noheader
        docker version --format 'docker client {{.Client.Version}} server {{.Server.Version}}'
        containerd --version; runc --version | head -n 1; nvcc --version | tail -n 1
    } >"$out/machine.txt" 2>&1
}

# run_steps PLAN_DIR TAG: runs every step as the components send it (command line, script on stdin).
run_steps() {
    while read -r n name; do
        start=$(date +%s.%N)
        timeout 300 sh -c "$(cat "$carry/plan/$n.cmd")" <"$carry/plan/$n.sh" >"$work/$2-$n.out" 2>&1
        rc=$?
        printf '%s %s exit=%s %ss %s\n' "$n" "$name" "$rc" "$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")" "$(tail -n 1 "$work/$2-$n.out")" >>"$work/$2.steps"
        [ "$rc" = 0 ] || { log "step $n $name failed ($rc): $(tail -n 5 "$work/$2-$n.out")"; return 1; }
    done <"$carry/plan/steps.txt"
    return 0
}

undo_steps() {
    sort -r "$carry/plan/steps.txt" | while read -r n name; do
        [ -f "$carry/plan/$n.undo.cmd" ] || continue
        start=$(date +%s.%N)
        timeout 180 sh -c "$(cat "$carry/plan/$n.undo.cmd")" </dev/null >"$work/destroy-$n.out" 2>&1
        rc=$?
        printf '%s %s exit=%s %ss %s\n' "$n" "$name" "$rc" "$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }")" "$(tail -n 1 "$work/destroy-$n.out")" >>"$work/destroy.steps"
        [ "$rc" = 124 ] && ps -eo pid,ppid,etimes,args >"$work/destroy-$n.ps"
        save
    done
}

# The driver (issue 23): only read and verified, never installed, removed or changed. What would show a change:
APT_BLOCK=/etc/apt/apt.conf.d/51pulumi-nvidia-gpu-driver
driver_packages() {
    # shellcheck disable=SC2016 # dpkg-query expands ${...} itself
    dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version}\n' 'nvidia-driver*' 'nvidia-open*' 'libnvidia-compute*' 'cuda-drivers*' \
        'nvidia-kernel*' 'linux-headers*' 'linux-modules-nvidia*' 2>/dev/null | grep '^ii' | LC_ALL=C sort
}
driver_state() { sha256sum /proc/driver/nvidia/version | cut -d' ' -f1; nvidia-smi --query-gpu=driver_version --format=csv,noheader; driver_packages; }
file_state() { if [ -e "$1" ]; then sha256sum <"$1" | cut -d' ' -f1; else echo absent; fi; }
# step_out DIR TAG NAME: the output file of step NAME of the plan in DIR, run under TAG.
step_out() { echo "$work/$2-$(awk -v s="$3" '$2 == s { print $1 }' "$1/steps.txt").out"; }
# verify_ok OUT: driver-verify printed loaded = library = the driver nvidia-smi reports, state ok.
verify_ok() {
    smi=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n 1)
    line=$(grep '^{"loaded"' "$1" | tail -n 1)
    [ -n "$smi" ] && [ "$line" = "{\"loaded\":\"$smi\",\"library\":\"$smi\",\"state\":\"ok\"}" ]
}
# run_driver_steps DIR TAG [undo]: the driver-* steps of the plan in DIR (in reverse, their undo), as the components send them.
run_driver_steps() {
    if [ "${3:-}" = undo ]; then order="sort -r"; else order="cat"; fi
    grep ' driver-' "$1/steps.txt" | $order | while read -r n name; do
        if [ "${3:-}" = undo ]; then
            [ -f "$1/$n.undo.cmd" ] || continue
            timeout 180 sh -c "$(cat "$1/$n.undo.cmd")" </dev/null >"$work/$2-$n.out" 2>&1
        else
            timeout 300 sh -c "$(cat "$1/$n.cmd")" <"$1/$n.sh" >"$work/$2-$n.out" 2>&1
        fi
        rc=$?
        printf '%s %s exit=%s %s\n' "$n" "$name" "$rc" "$(tail -n 1 "$work/$2-$n.out")" >>"$work/$2.steps"
        [ "$rc" = 0 ] || exit 1
    done
}

# gpu_run NAME EXPECTED_UUIDS DOCKER_ARGS...: a container runs the CUDA check; it must see exactly those GPUs, each kernel right.
gpu_run() {
    name=$1; want=$2; shift 2
    docker run --rm "$@" gpu-check:local >"$work/$name.log" 2>&1
    rc=$?
    seen=$(awk '$1 == "gpu" && $5 == "saxpy" && $6 == "ok" {print $3}' "$work/$name.log" | LC_ALL=C sort | tr '\n' ' ')
    if [ "$rc" = 0 ] && [ "$seen" = "$want" ]; then pass "$name" "saw $seen"; else fail "$name" "exit $rc, saw '$seen', want '$want': $(tail -n 2 "$work/$name.log" | tr '\n' ' ')"; fi
}

# save: what has been learnt so far goes under $OUT now, so a run stopped at its limit still brings it back.
save() { tar -C "$work" -czf "$out/artifacts.tar.gz" . 2>/dev/null; }

phase_snapshot() {
    setup || { fail setup "docker did not start"; return; }
    pass setup "$(docker version --format '{{.Server.Version}}')"
    machine_facts
    sh "$carry/read-host.sh" >"$out/snapshot.txt" 2>"$out/snapshot.stderr" && pass snapshot || fail snapshot "$(tail -n 2 "$out/snapshot.stderr")"
}

phase_apply() {
    setup || { fail setup "docker did not start"; return; }
    pass setup "$(docker version --format '{{.Server.Version}}')"
    machine_facts
    # Every file a plan may touch, before it: destroy must leave the same (the library's own state folder aside).
    manifest | grep -v ' /var/lib/pulumi-nvidia-gpu/' >"$work/manifest-before.txt"
    # The state the plan meets, against the one it was built from (the report compares them).
    sh "$carry/read-host.sh" >"$work/pre-snapshot.txt" 2>/dev/null
    original=$(sha256sum /etc/docker/daemon.json | cut -d' ' -f1)
    pid_before=$(systemctl show -p MainPID --value docker)
    driver_state >"$work/driver-before.txt" 2>&1
    apt_block_before=$(file_state "$APT_BLOCK")

    if run_steps "$carry/plan" apply; then pass apply "$(wc -l <"$carry/plan/steps.txt") steps"; else fail apply "see apply.steps"; fi
    cmp -s /etc/docker/daemon.json "$carry/plan/files/etc/docker/daemon.json" && pass daemon-json-as-previewed || fail daemon-json-as-previewed
    pid_applied=$(systemctl show -p MainPID --value docker)
    [ "$pid_applied" != 0 ] && [ "$pid_applied" != "$pid_before" ] && pass docker-restarted "main PID $pid_before -> $pid_applied" || fail docker-restarted "main PID $pid_before -> $pid_applied"
    docker info --format '{{json .Runtimes}}' | grep -q '"nvidia"' && pass nvidia-runtime-registered || fail nvidia-runtime-registered
    dpkg-query -W -f '${Package} ${Version}\n' nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1 >"$work/packages.txt" 2>&1
    { nvidia-ctk --version; nvidia-container-runtime --version; } >"$work/toolkit-versions.txt" 2>&1
    grep -q "1.20.0" "$work/toolkit-versions.txt" && pass real-toolkit-binaries "$(head -n 1 "$work/toolkit-versions.txt")" || fail real-toolkit-binaries "$(cat "$work/toolkit-versions.txt")"
    ls /etc/cdi /var/run/cdi >"$work/cdi-specs.txt" 2>&1
    # The driver steps with driver.version = the loaded version: nothing installed, the real module and library verified.
    driver_state >"$work/driver-applied.txt" 2>&1
    if cmp -s "$work/driver-before.txt" "$work/driver-applied.txt" && ! grep -Eq ' driver-(packages|kernel-headers|cuda-repo|reboot)$' "$carry/plan/steps.txt"; then
        pass driver-nothing-installed "$(grep -c ' driver-' "$carry/plan/steps.txt") driver steps: $(grep ' driver-' "$carry/plan/steps.txt" | cut -d' ' -f2 | tr '\n' ' ')"
    else
        fail driver-nothing-installed "$(diff "$work/driver-before.txt" "$work/driver-applied.txt" | tr '\n' ' ')"
    fi
    verify_ok "$(step_out "$carry/plan" apply driver-verify)" && pass driver-verify-ok "$(grep '^{' "$(step_out "$carry/plan" apply driver-verify)")" ||
        fail driver-verify-ok "$(tail -n 2 "$(step_out "$carry/plan" apply driver-verify)" | tr '\n' ' ')"
    cmp -s "$APT_BLOCK" "$carry/plan/files$APT_BLOCK" && pass driver-apt-block-as-previewed "$APT_BLOCK" || fail driver-apt-block-as-previewed "$(file_state "$APT_BLOCK")"

    check build-image sh test/gpu/device/build-image.sh
    all=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | LC_ALL=C sort | tr '\n' ' ')
    gpu_run runtime-nvidia-all "$all" --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all
    gpu_run cdi-all "$all" --device nvidia.com/gpu=all
    for i in $(nvidia-smi --query-gpu=index --format=csv,noheader); do
        uuid=$(nvidia-smi -i "$i" --query-gpu=uuid --format=csv,noheader)
        gpu_run "cdi-index-$i" "$uuid " --device "nvidia.com/gpu=$i"
        gpu_run "cdi-uuid-$i" "$uuid " --device "nvidia.com/gpu=$uuid"
        gpu_run "runtime-nvidia-index-$i" "$uuid " --runtime=nvidia -e "NVIDIA_VISIBLE_DEVICES=$i"
    done
    # The control: the same image under plain runc sees no GPU, so the checks above can fail.
    docker run --rm gpu-check:local >"$work/control-runc.log" 2>&1 && fail control-no-gpu-under-runc "the check passed without a GPU" || pass control-no-gpu-under-runc "$(head -n 1 "$work/control-runc.log")"
    # DockerGpuContainer's workloads (issue 27): ports, volumes, NGC's IPC/shm/ulimits, capabilities inside.
    if [ -d "$carry/workloads" ]; then . test/gpu/device/workloads.sh; phase_workloads; fi

    save
    sh "$carry/read-host.sh" >"$work/post-snapshot.txt" 2>/dev/null
    manifest >"$work/manifest-applied.txt"
    run_steps "$carry/plan" reapply && pass reapply-ok || fail reapply-ok
    manifest >"$work/manifest-reapplied.txt"
    pid_reapplied=$(systemctl show -p MainPID --value docker)
    if cmp -s "$work/manifest-applied.txt" "$work/manifest-reapplied.txt" && [ "$pid_reapplied" = "$pid_applied" ]; then
        pass reapply-writes-nothing "$(wc -l <"$work/manifest-applied.txt") files unchanged, docker not restarted"
    else
        fail reapply-writes-nothing "$(diff "$work/manifest-applied.txt" "$work/manifest-reapplied.txt" | head -n 5 | tr '\n' ' ') pid $pid_applied -> $pid_reapplied"
    fi

    save
    undo_steps
    now=$(sha256sum /etc/docker/daemon.json 2>/dev/null | cut -d' ' -f1)
    [ "$now" = "$original" ] && pass destroy-restores-daemon-json "sha256 $now" || fail destroy-restores-daemon-json "sha256 $original -> $now"
    pid_destroyed=$(systemctl show -p MainPID --value docker)
    [ "$pid_destroyed" != 0 ] && [ "$pid_destroyed" != "$pid_reapplied" ] && docker info >/dev/null 2>&1 && pass destroy-restarted-docker "main PID $pid_reapplied -> $pid_destroyed" || fail destroy-restarted-docker "main PID $pid_reapplied -> $pid_destroyed"
    docker info --format '{{json .Runtimes}}' | grep -q '"nvidia"' && fail destroy-removed-runtime || pass destroy-removed-runtime
    left=$(dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1 2>/dev/null | grep '^ii' | tr '\n' ' ')
    [ -z "$left" ] && pass destroy-removed-packages || fail destroy-removed-packages "$left"
    manifest | grep -v ' /var/lib/pulumi-nvidia-gpu/' >"$work/manifest-destroyed.txt"
    if cmp -s "$work/manifest-before.txt" "$work/manifest-destroyed.txt"; then
        pass destroy-restores-every-file "$(wc -l <"$work/manifest-before.txt") files as before the apply"
    else
        fail destroy-restores-every-file "$(diff "$work/manifest-before.txt" "$work/manifest-destroyed.txt" | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
    fi
    grep -q 'exit=0 ' "$work/destroy.steps" && ! grep -qv 'exit=0 ' "$work/destroy.steps" && pass destroy-steps-ok || fail destroy-steps-ok "$(grep -v 'exit=0 ' "$work/destroy.steps" | tr '\n' ' ')"
    [ "$(file_state "$APT_BLOCK")" = "$apt_block_before" ] && pass driver-apt-block-restored "$apt_block_before" || fail driver-apt-block-restored "$apt_block_before -> $(file_state "$APT_BLOCK")"
    sh "$carry/read-host.sh" >"$work/destroyed-snapshot.txt" 2>/dev/null

    # driver.branch = the loaded driver's branch: its driver steps, then their undo.
    if run_driver_steps "$carry/plan-branch" branch; then pass driver-branch-apply "$(wc -l <"$work/branch.steps") steps"; else fail driver-branch-apply "$(tail -n 1 "$work/branch.steps")"; fi
    verify_ok "$(step_out "$carry/plan-branch" branch driver-verify)" && pass driver-branch-verify-ok "$(grep '^{' "$(step_out "$carry/plan-branch" branch driver-verify)")" ||
        fail driver-branch-verify-ok "$(tail -n 2 "$(step_out "$carry/plan-branch" branch driver-verify)" | tr '\n' ' ')"
    cmp -s "$APT_BLOCK" "$carry/plan-branch/files$APT_BLOCK" && pass driver-branch-apt-block-as-previewed || fail driver-branch-apt-block-as-previewed "$(file_state "$APT_BLOCK")"
    run_driver_steps "$carry/plan-branch" branch-destroy undo || fail driver-branch-destroy "$(tail -n 1 "$work/branch-destroy.steps")"
    [ "$(file_state "$APT_BLOCK")" = "$apt_block_before" ] && pass driver-branch-apt-block-restored "$apt_block_before" || fail driver-branch-apt-block-restored "$apt_block_before -> $(file_state "$APT_BLOCK")"
    driver_state >"$work/driver-after.txt" 2>&1
    cmp -s "$work/driver-before.txt" "$work/driver-after.txt" && pass driver-untouched "module, nvidia-smi and driver packages as before the run" ||
        fail driver-untouched "$(diff "$work/driver-before.txt" "$work/driver-after.txt" | tr '\n' ' ')"
    cp "$out/machine.txt" "$work/" 2>/dev/null
}

# The driver steps alone (issue 23), when device time is short: the version and branch pins' driver steps, as the
# components send them, against the real module and library; their undo; the driver untouched. No Docker needed.
phase_driver() {
    machine_facts
    driver_state >"$work/driver-before.txt" 2>&1
    apt_block_before=$(file_state "$APT_BLOCK")
    sh "$carry/read-host.sh" >"$work/pre-snapshot.txt" 2>/dev/null
    for pin in plan plan-branch; do
        tag=driver${pin#plan}
        if run_driver_steps "$carry/$pin" "$tag"; then pass "$tag-apply" "$(wc -l <"$work/$tag.steps") steps: $(cut -d' ' -f2 "$work/$tag.steps" | tr '\n' ' ')"; else fail "$tag-apply" "$(tail -n 1 "$work/$tag.steps")"; fi
        grep -Eq ' driver-(packages|kernel-headers|cuda-repo|reboot)$' "$carry/$pin/steps.txt" && fail "$tag-nothing-installed" "$(grep ' driver-' "$carry/$pin/steps.txt" | tr '\n' ' ')" || pass "$tag-nothing-installed"
        verify_ok "$(step_out "$carry/$pin" "$tag" driver-verify)" && pass "$tag-verify-ok" "$(grep '^{' "$(step_out "$carry/$pin" "$tag" driver-verify)")" ||
            fail "$tag-verify-ok" "$(tail -n 2 "$(step_out "$carry/$pin" "$tag" driver-verify)" | tr '\n' ' ')"
        cmp -s "$APT_BLOCK" "$carry/$pin/files$APT_BLOCK" && pass "$tag-apt-block-as-previewed" "$APT_BLOCK" || fail "$tag-apt-block-as-previewed" "$(file_state "$APT_BLOCK")"
        [ "$pin" = plan ] && sh "$carry/read-host.sh" >"$work/post-snapshot.txt" 2>/dev/null
        run_driver_steps "$carry/$pin" "$tag-destroy" undo && pass "$tag-destroy" || fail "$tag-destroy" "$(tail -n 1 "$work/$tag-destroy.steps")"
        [ "$(file_state "$APT_BLOCK")" = "$apt_block_before" ] && pass "$tag-apt-block-restored" "$apt_block_before" || fail "$tag-apt-block-restored" "$apt_block_before -> $(file_state "$APT_BLOCK")"
    done
    driver_state >"$work/driver-after.txt" 2>&1
    cmp -s "$work/driver-before.txt" "$work/driver-after.txt" && pass driver-untouched "module, nvidia-smi and driver packages as before the run" ||
        fail driver-untouched "$(diff "$work/driver-before.txt" "$work/driver-after.txt" | tr '\n' ' ')"
    sh "$carry/read-host.sh" >"$work/destroyed-snapshot.txt" 2>/dev/null
    cp "$out/machine.txt" "$work/" 2>/dev/null
}

rm -f "$results"
case "${1:-}" in
    snapshot) phase_snapshot ;;
    apply) phase_apply ;;
    driver) phase_driver ;;
    *) echo "usage: run.sh snapshot|apply|driver" >&2; exit 64 ;;
esac
cp /var/log/dockerd.log "$work/dockerd.log" 2>/dev/null
save
log "$(grep -c '^PASS' "$results") passed, $(grep -c '^FAIL' "$results") failed"
! grep -q '^FAIL' "$results"
