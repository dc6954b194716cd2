#!/bin/sh
# STAND-INS for NVIDIA's CUDA repository (developer.download.nvidia.com/compute/cuda/repos), which cannot be reached
# here: `build-rpm-driver-repo.sh OUT PORT` writes, under OUT, rpm-md repositories named and laid out as NVIDIA's are,
# for the dnf and zypper driver suites (test/driver/rpmDriver.driver.ts), served on 127.0.0.1:PORT:
#   rhel9/x86_64   cuda-rhel9.repo; nvidia-driver and kmod-nvidia-open-dkms / kmod-nvidia-latest-dkms (Epoch 3, as
#                  NVIDIA's) at 580.95.05 and 580.105.08, in the dnf module streams nvidia-driver:580-open and
#                  nvidia-driver:580-dkms (modules.yaml); kernel-devel and kernel-headers of RHEL 9.4's kernel
#                  5.14.0-427.13.1.el9_4 (RHEL's own BaseOS packages, here beside them)
#   sles15/x86_64  cuda-sles15.repo; nvidia-open-driver-G06-signed-cuda-kmp-default at 580.95.05_k6.4.0_150600.21 and
#                  580.105.08_k6.4.0_150600.21, and NVIDIA's user space beside it, nvidia-compute-utils-G06 and
#                  nvidia-compute-G06 (libnvidia-ml) at 580.95.05-1 and 580.105.08-1
# and, standing in for the distributions' own repositories (RHEL's BaseOS, SLES's base), which carry the headers:
#   rhel9-baseos   kernel-devel and kernel-headers of RHEL 9.4's kernel 5.14.0-427.13.1.el9_4
#   sles15-base    kernel-default-devel of SLES 15 SP6's kernel 6.4.0-150600.21-default
# Every package is a STAND-IN: the names, versions, epochs and streams are NVIDIA's (and RHEL's, SUSE's), the contents
# are text files saying what they stand for (a libnvidia-ml.so.<version> whose version the driver verify reads; no
# kernel module is built). The .repo files differ from NVIDIA's in one way: gpgcheck=0 (these rpms are unsigned).
set -eu
out=$1
port=$2
stamp=$(cat "$0" | sha256sum | cut -c 1-12)-$port
[ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] && { echo "driver rpm repo ready: $out"; exit 0; }
rm -rf "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/rhel9/x86_64" "$out/sles15/x86_64" "$out/rhel9-baseos" "$out/sles15-base" "$work/SPECS"

# pkg NAME EPOCH VERSION RELEASE ARCH DEST "Requires/Provides lines" FILE...: a stand-in rpm whose files are text (a
# FILE "path->target" is a symlink).
pkg() {
    name=$1 epoch=$2 version=$3 release=$4 arch=$5 dest=$6 deps=$7
    shift 7
    spec="$work/SPECS/$name-$version.spec"
    {
        echo "Name: $name"
        [ "$epoch" = 0 ] || echo "Epoch: $epoch"
        echo "Version: $version"
        echo "Release: $release"
        echo "Summary: STAND-IN for $name $version (pulumi-nvidia-gpu driver suite)"
        echo "License: MIT"
        echo "BuildArch: $arch"
        echo "AutoReqProv: no"
        printf '%b' "$deps"
        echo "%description"
        echo "STAND-IN for $name $version: test/driver/fleet/build-rpm-driver-repo.sh. Text files only."
        echo "%install"
        for f in "$@"; do
            case "$f" in
                *'->'*) echo "mkdir -p %{buildroot}$(dirname "${f%%->*}") && ln -s ${f#*->} %{buildroot}${f%%->*}" ;;
                *) echo "mkdir -p %{buildroot}$(dirname "$f") && echo 'STAND-IN: $name $version' > %{buildroot}$f" ;;
            esac
        done
        echo "%files"
        for f in "$@"; do echo "${f%%->*}"; done
    } >"$spec"
    rpmbuild --quiet --define "_topdir $work" --target "$arch" -bb "$spec" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
    cp "$work"/RPMS/*/"$name"-*"$version"-"$release"*.rpm "$dest/"
}

el=5.14.0-427.13.1.el9_4.x86_64
rhel=$out/rhel9/x86_64
pkg kernel-devel 0 5.14.0 427.13.1.el9_4 x86_64 "$out/rhel9-baseos" "" "/usr/src/kernels/$el/Makefile" "/lib/modules/$el/build->/usr/src/kernels/$el"
pkg kernel-headers 0 5.14.0 427.13.1.el9_4 x86_64 "$out/rhel9-baseos" "" /usr/include/linux/e2e-stand-in.h
for v in 580.95.05 580.105.08; do
    pkg nvidia-driver 3 "$v" 1.el9 x86_64 "$rhel" "Requires: nvidia-kmod = 3:$v\n" "/usr/lib64/libnvidia-ml.so.$v" "/usr/lib64/libnvidia-ml.so.1->libnvidia-ml.so.$v"
    pkg kmod-nvidia-open-dkms 3 "$v" 1.el9 x86_64 "$rhel" "Provides: nvidia-kmod = 3:$v\nConflicts: kmod-nvidia-latest-dkms\n" "/usr/src/nvidia-open-$v/dkms.conf"
    pkg kmod-nvidia-latest-dkms 3 "$v" 1.el9 x86_64 "$rhel" "Provides: nvidia-kmod = 3:$v\nConflicts: kmod-nvidia-open-dkms\n" "/usr/src/nvidia-$v/dkms.conf"
done
# The module streams, as NVIDIA's repository defines them: one stream per branch and module type.
{
    n=0
    for stream in 580-open 580-dkms; do
        kmod=kmod-nvidia-open-dkms
        [ "$stream" = 580-dkms ] && kmod=kmod-nvidia-latest-dkms
        n=$((n + 1))
        cat <<YAML
---
document: modulemd
version: 2
data:
  name: nvidia-driver
  stream: "$stream"
  version: 20251001000000$n
  context: e2e00000
  arch: x86_64
  summary: STAND-IN for NVIDIA's nvidia-driver module stream $stream
  description: STAND-IN (test/driver/fleet/build-rpm-driver-repo.sh)
  license:
    module: [MIT]
  profiles:
    default:
      rpms: [nvidia-driver, $kmod]
  artifacts:
    rpms:
    - nvidia-driver-3:580.95.05-1.el9.x86_64
    - nvidia-driver-3:580.105.08-1.el9.x86_64
    - $kmod-3:580.95.05-1.el9.x86_64
    - $kmod-3:580.105.08-1.el9.x86_64
YAML
    done
    echo "..."
} >"$work/modules.yaml"
createrepo_c -q "$rhel"
modifyrepo_c --mdtype=modules "$work/modules.yaml" "$rhel/repodata" >/dev/null
printf '[cuda-rhel9-x86_64]\nname=cuda-rhel9-x86_64 (STAND-IN)\nbaseurl=http://127.0.0.1:%s/rhel9/x86_64\nenabled=1\ngpgcheck=0\n' "$port" >"$rhel/cuda-rhel9.repo"

sle=6.4.0-150600.21-default
sles=$out/sles15/x86_64
pkg kernel-default-devel 0 6.4.0 150600.21.1 x86_64 "$out/sles15-base" "" "/usr/src/linux-6.4.0-150600.21-obj/x86_64/default/Makefile" "/lib/modules/$sle/build->/usr/src/linux-6.4.0-150600.21-obj/x86_64/default"
for v in 580.95.05 580.105.08; do
    pkg nvidia-open-driver-G06-signed-cuda-kmp-default 0 "${v}_k6.4.0_150600.21" 1.1 x86_64 "$sles" "" "/lib/modules/$sle/updates/nvidia-$v.ko.stand-in"
    pkg nvidia-compute-G06 0 "$v" 1 x86_64 "$sles" "" "/usr/lib64/libnvidia-ml.so.$v" "/usr/lib64/libnvidia-ml.so.1->libnvidia-ml.so.$v"
    pkg nvidia-compute-utils-G06 0 "$v" 1 x86_64 "$sles" "Requires: nvidia-compute-G06 = $v\n" /usr/bin/nvidia-smi.stand-in
done
createrepo_c -q "$sles"
createrepo_c -q "$out/rhel9-baseos"
createrepo_c -q "$out/sles15-base"
printf '[cuda-sles15-x86_64]\nname=cuda-sles15-x86_64 (STAND-IN)\nbaseurl=http://127.0.0.1:%s/sles15/x86_64\nenabled=1\nautorefresh=1\ngpgcheck=0\n' "$port" >"$sles/cuda-sles15.repo"
echo "$stamp" >"$out/stamp"
echo "driver rpm repo built: $out"
