#!/bin/sh
# Starts the machine's Docker engine for the e2e fleet, if it is not running: containerd, then dockerd
# with the default bridge off (tests talk only to 127.0.0.0/8; nodes use the host network).
set -eu
# The daemons outlive this script: they must not inherit a caller's descriptors, above all flock(1)'s on
# /tmp/fleet.lock, or they hold the fleet lock for as long as they run and every later `flock` waits forever.
# `exec`: a function run with `&` runs in a forked subshell, which would otherwise wait for the daemon holding that fd.
detached() { exec nohup python3 -c 'import os, sys; os.closerange(3, 1 << 16); os.execvp(sys.argv[1], sys.argv[1:])' "$@"; }
if docker info >/dev/null 2>&1; then exit 0; fi
mkdir -p /var/log/e2e
# The socket, not pgrep: a fleet node runs its own containerd, which pgrep sees from here too.
if ! ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then
    detached containerd >/var/log/e2e/containerd.log 2>&1 &
    sleep 2
fi
detached dockerd --bridge=none --iptables=false --ip-masq=false --containerd=/run/containerd/containerd.sock >/var/log/e2e/dockerd.log 2>&1 &
n=0
until docker info >/dev/null 2>&1; do
    n=$((n + 1))
    [ "$n" -ge 60 ] && { echo "dockerd did not start:" >&2; tail -n 20 /var/log/e2e/dockerd.log >&2; exit 1; }
    sleep 1
done
