#!/bin/sh
# Fetches the OpenSSH server the scale suite's lightweight nodes run (bench/scale/README.md), once, into a cache folder
# keyed by version: Debian bookworm's openssh-server and the libwrap0 it links against, unpacked, not installed.
# Idempotent; prints the folder. OpenSSH 9.2 (>= 8.8) refuses ssh-rsa (SHA-1) host key signatures, as real hosts do.
set -eu
OPENSSH=1:9.2p1-2+deb12u10
LIBWRAP=7.6.q-32
cache=${PULUMI_NVIDIA_GPU_CACHE:-$HOME/.cache/pulumi-nvidia-gpu}/scale-openssh-9.2p1-2+deb12u10
if [ ! -x "$cache/usr/sbin/sshd" ] || [ ! -e "$cache/usr/lib/x86_64-linux-gnu/libwrap.so.0" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get download "openssh-server=$OPENSSH" "libwrap0=$LIBWRAP" >/dev/null 2>&1) || {
        echo "error: apt-get download openssh-server=$OPENSSH libwrap0=$LIBWRAP failed (needs the Debian bookworm archive)" >&2
        exit 1
    }
    mkdir -p "$cache.new"
    for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$cache.new"; done
    rm -rf "$cache" && mv "$cache.new" "$cache"
fi
echo "$cache"
