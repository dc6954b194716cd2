#!/bin/sh
# One lightweight scale node (bench/scale/README.md), run by bench/scaleBench.ts as
#   unshare --mount --pid --fork --kill-child --propagation private sh node.sh BASE NODE_DIR ADDRESS
# Its root is an overlay: the node's own upper layer (where every write of a step lands) over BASE (sshd, the node's
# users and the logging stand-ins for apt/dpkg/systemctl/docker/nvidia-ctk/..., base.sh) over the machine's root file
# system, which the node can read but not change (shells, coreutils, awk). The layers live on a tmpfs of the node's own
# (overlayfs refuses a layer inside another). It runs one OpenSSH sshd on ADDRESS:2422 in the machine's network
# namespace, in mount and PID namespaces of its own; NODE_DIR/ssh_host_ed25519_key is its host key.
set -eu
base=$1 dir=$2 address=$3
mem=$dir/mem
mkdir -p "$mem"
mount -t tmpfs -o mode=0755,size=256m scale-node "$mem"
mkdir -p "$mem/base" "$mem/upper/etc/ssh" "$mem/work" "$mem/root"
cp -a "$base/." "$mem/base/"
install -m 0600 "$dir/ssh_host_ed25519_key" "$mem/upper/etc/ssh/ssh_host_ed25519_key"
mount -t overlay scale-node -o "lowerdir=$mem/base:/,upperdir=$mem/upper,workdir=$mem/work" "$mem/root"
mount -t proc proc "$mem/root/proc"
mount --rbind /dev "$mem/root/dev"
mount -t tmpfs -o mode=0755,size=16m scale-run "$mem/root/run"
mkdir -p "$mem/root/run/sshd" "$mem/root/run/systemd/system"
exec chroot "$mem/root" /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config -o "ListenAddress=$address"
