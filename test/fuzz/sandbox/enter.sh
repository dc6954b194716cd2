#!/bin/sh
# Builds the fuzz sandbox and runs every case in it: called by test/fuzz/sandbox.ts as
#   unshare --mount --pid --fork --propagation private sh enter.sh WORK
# Why unshare and not a container of the fleet's gpu-e2e-base image: it needs no Docker engine (the fuzz suite runs
# on any Linux CI runner as root), it starts in milliseconds, and it gives a smaller world: the root is a fresh
# tmpfs in a private mount namespace, so every write of a script (/etc, /var, /usr/share, /home, /tmp) lands in
# memory that vanishes with the namespace. Of the host only /usr/lib and /usr/lib64 (shared libraries, bound
# read-only), a copy of a few basic utilities, and WORK/cases (the commands, and where results go) are visible.
# /usr/bin is read-only, and holds only those utilities and the logging stand-ins: apt-get, systemctl, docker,
# nvidia-ctk, curl, gpg, ... (stub.sh). The host's /etc, /var and /usr can neither be read nor written.
set -eu
work=$1
here=$(dirname "$0")
root=$work/root
mkdir -p "$root"
mount -t tmpfs -o size=1g,mode=0755 fuzz-sandbox "$root"
mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/proc" "$root/dev" "$root/fuzz/cases" "$root/fuzz/seed"
for lib in /usr/lib /usr/lib64; do
    [ -d "$lib" ] || continue
    mkdir -p "$root$lib"
    mount --bind "$lib" "$root$lib"
    mount -o remount,bind,ro "$root$lib"
done
ln -s usr/bin "$root/bin"
ln -s usr/bin "$root/sbin"
ln -s bin "$root/usr/sbin"
ln -s usr/lib "$root/lib"
[ ! -d /usr/lib64 ] || ln -s usr/lib64 "$root/lib64"
# The basic utilities the plan scripts use, copied from the host (they link against the read-only /usr/lib).
for tool in sh dash cat chmod chown chgrp cmp comm cp cut date dirname basename echo env expr false find flock grep head \
    tail id install ln ls mkdir mktemp mv rm rmdir printf readlink realpath sed awk mawk sha256sum sleep sort stat sync \
    tee test touch tr true uname uniq wc xargs paste base64 od seq timeout getent hostname nproc yes nohup python3 \
    diff gzip tar; do
    for dir in /usr/bin /usr/sbin /bin /sbin; do
        if [ -x "$dir/$tool" ]; then cp -L "$dir/$tool" "$root/usr/bin/$tool" && break; fi
    done
done
cp "$here/stub.sh" "$root/usr/bin/.fuzz-stub"
chmod 0755 "$root/usr/bin/.fuzz-stub"
while read -r stub; do ln -s .fuzz-stub "$root/usr/bin/$stub"; done <"$here/stubs.txt"
mount --bind "$root/usr/bin" "$root/usr/bin"
mount -o remount,bind,ro "$root/usr/bin"
for dev in null zero random urandom; do
    : >"$root/dev/$dev"
    mount --bind "/dev/$dev" "$root/dev/$dev"
done
mount -t proc proc "$root/proc"
mount --bind "$work/cases" "$root/fuzz/cases"
# The pristine host state every case starts from: an Ubuntu 24.04 server as the probe fixture describes it.
seed=$root/fuzz/seed
mkdir -p "$seed/etc" "$seed/var/lib" "$seed/var/tmp" "$seed/home/alice" "$seed/home/ops" "$seed/root" "$seed/run" "$seed/tmp" \
    "$seed/usr/share/keyrings" "$seed/usr/local" "$seed/opt" "$seed/run/systemd/system"
chmod 1777 "$seed/tmp" "$seed/var/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nops:x:1001:1001::/home/ops:/bin/sh\n' >"$seed/etc/passwd"
printf 'root:x:0:\nalice:x:1000:\nops:x:1001:\ndocker:x:999:alice\n' >"$seed/etc/group"
printf 'ID=ubuntu\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04.1 LTS"\nVERSION_CODENAME=noble\n' >"$seed/etc/os-release"
echo fuzz-sandbox >"$seed/etc/hostname"
chown -R 1000:1000 "$seed/home/alice"
chown -R 1001:1001 "$seed/home/ops"
cp "$here/runner.sh" "$root/fuzz/runner.sh"
exec chroot "$root" /usr/bin/env -i PATH=/usr/bin HOME=/root LANG=C.UTF-8 /usr/bin/sh /fuzz/runner.sh
