#!/bin/sh
# Host probe: reads what a GPU container host has and prints one JSON object on stdout.
# Read-only; works without a GPU, Docker or systemd, and as a non-root user (no sudo needed).
# Every fact is a JSON string or null; sdk/host/hostFacts.ts gives them their types.
set -u
export LC_ALL=C

first=1
# field KEY VALUE: one string member; field_null KEY: one null member.
field() {
    if [ "$first" -eq 1 ]; then first=0; else printf ','; fi
    printf '\n  "%s": "' "$1"
    printf '%s' "$2" | tr -d '\000-\010\013\014\016-\037' |
        sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' -e 's/\r/\\r/g' |
        awk 'BEGIN { ORS = "" } NR > 1 { print "\\n" } { print }'
    printf '"'
}
field_null() {
    if [ "$first" -eq 1 ]; then first=0; else printf ','; fi
    printf '\n  "%s": null' "$1"
}
# fact KEY COMMAND...: the command's stdout, or null when it is missing or fails.
fact() {
    key=$1
    shift
    if out=$("$@" 2>/dev/null); then field "$key" "$out"; else field_null "$key"; fi
}
# fact_any KEY COMMAND...: the command's stdout even when it exits non-zero (dpkg-query does for
# packages that are not installed), or null when the command is missing.
fact_any() {
    key=$1
    shift
    if has "$1"; then field "$key" "$("$@" 2>/dev/null)"; else field_null "$key"; fi
}
has() { command -v "$1" >/dev/null 2>&1; }
# file_fact KEY PATH: the file's text, or null when it cannot be read.
file_fact() {
    if [ -r "$2" ]; then field "$1" "$(cat "$2" 2>/dev/null)"; else field_null "$1"; fi
}
# present KEY PATH...: the paths that exist, one per line.
present() {
    key=$1
    shift
    found=""
    for p in "$@"; do
        if [ -e "$p" ]; then found="$found$p
"; fi
    done
    field "$key" "$found"
}
os_release() { sed -n "s/^$1=//p" /etc/os-release 2>/dev/null | sed -e 's/^"//' -e 's/"$//' | head -n 1; }

printf '{'
field probeVersion "1"
field user "$(id -un 2>/dev/null)"
field uid "$(id -u)"
field groups "$(id -Gn 2>/dev/null)"
if has sudo && sudo -n true 2>/dev/null; then field sudo "passwordless"; elif has sudo; then field sudo "password"; else field sudo "none"; fi

# Operating system
field osId "$(os_release ID)"
field osVersionId "$(os_release VERSION_ID)"
field osIdLike "$(os_release ID_LIKE)"
field osPrettyName "$(os_release PRETTY_NAME)"
field arch "$(uname -m)"
field kernel "$(uname -r)"
if [ -d "/lib/modules/$(uname -r)/build" ]; then field kernelHeaders "present"; else field kernelHeaders "missing"; fi
pms=""
for candidate in apt-get dnf zypper yum; do
    if has "$candidate"; then pms="$pms $candidate"; fi
done
field packageManagers "${pms# }"

# WSL2: the driver lives on the Windows host
present wslMarkers /dev/dxg /usr/lib/wsl/lib
file_fact procVersion /proc/version

# Init system and cgroups
file_fact pid1 /proc/1/comm
if has systemctl; then fact systemdState systemctl is-system-running; else field_null systemdState; fi
fact cgroupFs stat -fc %T /sys/fs/cgroup

# Secure Boot: mokutil when present, else the EFI variable (last byte 1 = enabled)
if has mokutil; then
    fact secureBoot mokutil --sb-state
elif [ -d /sys/firmware/efi ]; then
    sb=$(od -An -t u1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c 2>/dev/null | awk '{ v = $NF } END { print v }')
    field secureBoot "efivar:${sb:-unreadable}"
else
    field secureBoot "no-efi"
fi

# NVIDIA PCI devices (vendor 0x10de): address, device id and class, one per line
gpus=""
for dev in /sys/bus/pci/devices/*; do
    [ -r "$dev/vendor" ] || continue
    if [ "$(cat "$dev/vendor")" = "0x10de" ]; then
        gpus="$gpus$(basename "$dev") $(cat "$dev/device" 2>/dev/null) $(cat "$dev/class" 2>/dev/null)
"
    fi
done
field pciDevices "$gpus"

# Driver: the loaded kernel module, nvidia-smi, and the user-space library on disk
file_fact driverProc /proc/driver/nvidia/version
smi=""
for candidate in nvidia-smi /usr/bin/nvidia-smi /usr/local/nvidia/bin/nvidia-smi /usr/lib/wsl/lib/nvidia-smi; do
    if has "$candidate"; then smi=$candidate; break; fi
done
if [ -n "$smi" ]; then
    fact nvidiaSmi "$smi" --query-gpu=index,name,uuid,driver_version,memory.total,compute_cap,mig.mode.current,pci.bus_id --format=csv,noheader,nounits
else
    field_null nvidiaSmi
fi
# Data-centre facts (issue 17), read-only queries only: NVSwitch device nodes, persistence, MIG and fabric
# state per GPU, NVLink topology, MIG profiles and instances. nvidia-smi knows fabric.* only from R550 on.
nvswitches=""
for dev in /dev/nvidia-nvswitch[0-9]*; do
    if [ -e "$dev" ]; then nvswitches="$nvswitches$dev
"; fi
done
field nvswitchDevices "$nvswitches"
# fabric_of_q: the Fabric State and Status of every GPU in `nvidia-smi -q`, as `bus-id|state|status` lines.
fabric_of_q() {
    "$smi" -q | awk '/^GPU [0-9A-Fa-f]+:/ { gpu = $2; fabric = 0 }
        /^    [A-Za-z]/ { fabric = ($0 ~ /^    Fabric[[:space:]]*$/) }
        fabric && /^        State[[:space:]]*:/ { state = $0; sub(/^[^:]*:[[:space:]]*/, "", state) }
        fabric && /^        Status[[:space:]]*:/ { status = $0; sub(/^[^:]*:[[:space:]]*/, "", status); print gpu "|" state "|" status }'
}
if [ -n "$smi" ]; then
    modes="index,persistence_mode,mig.mode.current,mig.mode.pending"
    if out=$("$smi" --query-gpu="$modes,fabric.state,fabric.status" --format=csv,noheader 2>/dev/null); then
        field gpuModes "$out"
    else
        fact gpuModes "$smi" --query-gpu="$modes" --format=csv,noheader
        fact gpuFabric fabric_of_q
    fi
    fact nvlinkTopology "$smi" topo -m
    fact migProfiles "$smi" mig -lgip
    fact migGpuInstances "$smi" mig -lgi
    fact migComputeInstances "$smi" mig -lci
else
    field_null gpuModes
fi
libdirs="/usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/nvidia/lib64 /usr/lib/wsl/lib"
libs=""
for dir in $libdirs; do
    for lib in "$dir"/libnvidia-ml.so.* "$dir"/libnvidia-glcore.so.* "$dir"/libnvidia-encode.so.* "$dir"/libnvcuvid.so.* "$dir"/libcuda.so.*; do
        if [ -e "$lib" ]; then libs="$libs$lib
"; fi
    done
done
field driverLibraries "$libs"
# >>> driver ownership (issue 23; sdk/host/driverFacts.ts reads these three fields)
# Who put the driver there: the package that owns libnvidia-ml (`name version maintainer-or-vendor`; empty when no
# package does), and what NVIDIA's runfile leaves behind (nvidia-uninstall, nvidia-installer, its log).
ml=""
for dir in $libdirs; do
    for lib in "$dir"/libnvidia-ml.so.1 "$dir"/nvidia/current/libnvidia-ml.so.1; do
        if [ -z "$ml" ] && [ -e "$lib" ]; then ml=$(readlink -f "$lib" 2>/dev/null || echo "$lib"); fi
    done
done
field driverLibraryPath "$ml"
owner=""
if [ -n "$ml" ] && has dpkg-query; then
    # dpkg knows a merged-/usr file by either path; "diversion by" lines name no owner.
    pkg=$({ dpkg-query -S "$ml" || dpkg-query -S "${ml#/usr}"; } 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1)
    # shellcheck disable=SC2016 # dpkg-query expands ${...} itself
    if [ -n "$pkg" ]; then owner=$(dpkg-query -W -f '${Package} ${Version} ${Maintainer}\n' "$pkg" 2>/dev/null | head -n 1); fi
fi
# A host may carry both databases (dpkg's tools on a RHEL host, rpm's on the fleet's Debian-based dnf and zypper nodes):
# rpm is asked when dpkg owns nothing.
if [ -n "$ml" ] && [ -z "$owner" ] && has rpm; then
    # rpm prints "file … is not owned by any package" on stdout and exits 1 for a file no package owns.
    owner=$(rpm -qf --qf '%{NAME} %{VERSION}-%{RELEASE} %{VENDOR}\n' "$ml" 2>/dev/null) || owner=""
    owner=$(printf '%s\n' "$owner" | head -n 1)
fi
field driverLibraryOwner "$owner"
present driverInstaller /usr/bin/nvidia-uninstall /usr/bin/nvidia-installer /var/log/nvidia-installer.log
# <<< driver ownership
present graphicsFiles \
    /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
    /usr/share/glvnd/egl_vendor.d/10_nvidia.json /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
# OpenCL in containers (the opencl preset): the driver's ICD file and libnvidia-opencl (Debian's is under nvidia/current).
ocl=""
for f in /etc/OpenCL/vendors/nvidia.icd $(for dir in $libdirs; do printf '%s ' "$dir/libnvidia-opencl.so.1" "$dir/nvidia/current/libnvidia-opencl.so.1"; done); do
    if [ -e "$f" ]; then ocl="$ocl$f
"; fi
done
field openclFiles "$ocl"

# Installed packages, `name version ii` per line, from every package database the host has (dpkg and rpm both, for the
# hosts above that carry both); the field is null only when it has neither.
# packages FIELD 'DPKG PATTERNS' 'RPM NAMES'
packages() {
    if ! has dpkg-query && ! has rpm; then field_null "$1"; return; fi
    # The patterns are dpkg's, not the shell's: no pathname expansion while they split.
    set -f
    # shellcheck disable=SC2016,SC2086 # dpkg-query expands ${...} itself; the lists split on purpose
    field "$1" "$(if has dpkg-query; then dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\n' $2 2>/dev/null; fi
        if has rpm; then rpm --dbpath /var/lib/rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE} ii\n' $3 2>/dev/null; fi)"
    set +f
}
toolkit="nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1"
packages toolkitPackages "$toolkit" "$toolkit"
packages driverPackages "nvidia-driver* nvidia-open* libnvidia-compute* cuda-drivers*" "nvidia-driver kmod-nvidia-open-dkms cuda-drivers"
# Fabric Manager, the NVLink subnet manager (NVLink 5, HGX B200/B300) and NSCQ, by their apt and rpm names
packages fabricPackages "nvidia-fabricmanager* cuda-drivers-fabricmanager* nvlsm libnvidia-nscq*" "nvidia-fabricmanager nvidia-fabric-manager nvlsm libnvidia-nscq"
if has nv-fabricmanager; then fact fabricManagerVersion nv-fabricmanager --version; else field_null fabricManagerVersion; fi
# The services' states, `name active enabled` per line (systemctl prints the state even when it exits non-zero)
if has systemctl; then
    services=""
    for unit in nvidia-fabricmanager nvidia-persistenced nvlsm; do
        active=$(systemctl is-active "$unit" 2>/dev/null)
        enabled=$(systemctl is-enabled "$unit" 2>/dev/null)
        services="$services$unit ${active:-unknown} ${enabled:-not-found}
"
    done
    field gpuServices "$services"
else
    field_null gpuServices
fi
# InfiniBand devices and modules: NVLink 5 fabrics are managed over them (Fabric Manager needs ib_umad)
ib=""
for dev in /sys/class/infiniband/*; do
    if [ -e "$dev" ]; then ib="$ib$(basename "$dev")
"; fi
done
field infinibandDevices "$ib"
present ibModules /sys/module/ib_umad /sys/module/mlx5_ib
if has systemd-detect-virt; then fact_any virtualization systemd-detect-virt; else field_null virtualization; fi
if has nvidia-ctk; then fact nvidiaCtkVersion nvidia-ctk --version; else field_null nvidiaCtkVersion; fi

# Container runtimes
if has docker; then
    field dockerPath "$(command -v docker)"
    fact dockerClient docker --version
    fact dockerServer docker version --format '{{.Server.Version}}'
    fact dockerInfo docker info --format '{{.OperatingSystem}}|{{json .SecurityOptions}}|{{json .Runtimes}}|{{.CgroupDriver}}'
else
    field_null dockerPath
fi
if has snap; then fact snapDocker snap list docker; else field_null snapDocker; fi
if has containerd; then fact containerdVersion containerd --version; else field_null containerdVersion; fi
if [ -r /etc/containerd/config.toml ]; then
    field containerdConfigVersion "$(sed -n 's/^[[:space:]]*version[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' /etc/containerd/config.toml | head -n 1)"
else
    field_null containerdConfigVersion
fi
if has crio; then fact crioVersion crio --version; else field_null crioVersion; fi
if has podman; then fact podmanVersion podman --version; else field_null podmanVersion; fi
present cdiSpecs /etc/cdi/nvidia.yaml /etc/cdi/nvidia.json /var/run/cdi/nvidia.yaml /var/run/cdi/nvidia.json
printf '\n}\n'
