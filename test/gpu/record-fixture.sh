#!/bin/sh
# Records a READ-ONLY fixture of a GPU machine (issue 17): the project's own probe and the nvidia-smi
# queries a data-centre plan reads (fabric state, persistence mode, MIG capability and layout, NVLink
# topology, NVSwitch devices). It only reads: no setting, MIG mode or GPU state is changed, nothing is reset.
# Usage: sh test/gpu/record-fixture.sh OUTDIR
set -u
out=${1:?usage: record-fixture.sh OUTDIR}
mkdir -p "$out"
sh sdk/host/probe.sh > "$out/probe.json" 2> "$out/probe.stderr.txt"
{
    section() { printf '\n===== %s\n' "$*"; "$@" 2>&1; printf '(exit %s)\n' "$?"; }
    section date -u
    section nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,persistence_mode,mig.mode.current,mig.mode.pending,driver_version --format=csv
    section nvidia-smi topo -m
    section nvidia-smi nvlink -s
    section nvidia-smi mig -lgip
    section nvidia-smi mig -lgi
    section nvidia-smi mig -lci
    section sh -c 'ls -l /dev/nvidia* 2>&1'
    section sh -c 'for d in /sys/bus/pci/devices/*; do v=$(cat "$d/vendor"); c=$(cat "$d/class"); [ "$v" = 0x10de ] && echo "$(basename "$d") vendor=$v device=$(cat "$d/device") class=$c"; done'
    section cat /proc/driver/nvidia/version
    section sh -c 'command -v nv-fabricmanager nvidia-fabricmanager nvidia-persistenced 2>&1; ls /usr/bin/nv* 2>&1 | head -20'
    section sh -c 'ls -l /usr/bin/nvidia-smi; head -c 300 /usr/bin/nvidia-smi | strings | head -5'
} > "$out/nvidia-smi-queries.txt"
nvidia-smi -q > "$out/nvidia-smi-q.txt" 2>&1
echo "recorded into $out"
