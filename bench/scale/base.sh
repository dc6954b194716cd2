#!/bin/sh
# Builds the layer every scale node shares (bench/scale/README.md) in BASE: sshd (OPENSSH, from setup.sh), the node's
# users and sshd config, AUTHORIZED_KEY for root, and the logging stand-ins (the fuzz sandbox's stub.sh, logging to
# /var/log/stand-ins.log): apt, dpkg, systemctl, docker, nvidia-ctk, nvidia-smi, curl, gpg, modprobe, reboot, ...
# Usage: sh base.sh BASE OPENSSH AUTHORIZED_KEY
set -eu
base=$1 openssh=$2 key=$3
here=$(cd "$(dirname "$0")" && pwd)
stubs=$here/../../test/fuzz/sandbox
rm -rf "$base"
mkdir -p "$base/usr/bin" "$base/usr/sbin" "$base/usr/local/bin" "$base/usr/local/sbin" "$base/usr/lib/x86_64-linux-gnu" "$base/etc/ssh" "$base/var/log" "$base/root" \
    "$base/home/alice" "$base/tmp" "$base/var/tmp" "$base/etc/docker"
chmod 1777 "$base/tmp" "$base/var/tmp"
cp "$openssh/usr/sbin/sshd" "$base/usr/sbin/sshd"
cp -P "$openssh"/usr/lib/x86_64-linux-gnu/libwrap.so.0* "$base/usr/lib/x86_64-linux-gnu/"
# The node runs "systemd" as far as the plan can tell: systemctl is-system-running says running.
sed 's#/fuzz/argv.log#/var/log/stand-ins.log#; s#/run/fuzz-main-pid#/run/stand-in-main-pid#
s#^    is-active) echo active ;;#    is-system-running) echo running ;;\n&#' "$stubs/stub.sh" >"$base/usr/bin/.stand-in"
chmod 0755 "$base/usr/bin/.stand-in"
grep -v '^fuzzpwn$' "$stubs/stubs.txt" | while read -r name; do
    # In every PATH folder: the machine's own /usr/local/bin/docker must not shadow the stand-in.
    ln -s .stand-in "$base/usr/bin/$name"
    for dir in usr/sbin usr/local/bin usr/local/sbin; do ln -s /usr/bin/.stand-in "$base/$dir/$name"; done
done
printf 'root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/sh\n' >"$base/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nalice:x:1000:\ndocker:x:999:alice\n' >"$base/etc/group"
printf 'root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\nalice:*:19000:0:99999:7:::\n' >"$base/etc/shadow"
chmod 0640 "$base/etc/shadow"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n' >"$base/etc/os-release"
printf '{\n  "bridge": "none"\n}\n' >"$base/etc/docker/daemon.json"
echo scale-node >"$base/etc/hostname"
: >"$base/var/log/stand-ins.log"
printf '%s\n' "$key" >"$base/etc/ssh/authorized_keys"
cat >"$base/etc/ssh/sshd_config" <<'CONFIG'
Port 2422
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
AuthorizedKeysFile /etc/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PidFile none
MaxStartups 100:30:200
AcceptEnv PULUMI_COMMAND_*
LogLevel ERROR
CONFIG
