#!/bin/sh
# Installs what the unit tests run for real: Debian's containerd (1.6) and shellcheck, then
# containerd 1.7 and 2.1 binaries (test/tools/fetch-containerd.sh). Idempotent; needs root
# (or sudo) only when something is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
missing=""
command -v containerd >/dev/null 2>&1 || missing="$missing containerd"
command -v shellcheck >/dev/null 2>&1 || missing="$missing shellcheck"
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing Debian packages:$missing" >&2
    $sudo apt-get update -qq || { echo "setup: apt-get update failed; install$missing by hand" >&2; exit 1; }
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi
sh "$here/fetch-containerd.sh" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true
[ -x "$here/../../.tmp/containerd/2.1/usr/bin/containerd" ] || { echo "setup: containerd 2.1 could not be fetched" >&2; exit 1; }
