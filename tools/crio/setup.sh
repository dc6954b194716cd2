#!/bin/sh
# CRI-O for the fault matrix's crio node (test/faults): CRI-O is in neither Debian bookworm nor trixie, so it is
# built from the Go module proxy. Into .tmp/bin/ and .tmp/crio-debs/:
#   crio     github.com/cri-o/cri-o v1.34.0, pinned by the `tool` directive in tools/crio/go.mod
#   pinns    CRI-O's small C helper (it refuses to start without it), from the same module's pinns/src, static
#   conmon   Debian bookworm's conmon 2.1 and the libglib2.0-0 it needs (apt-get download; the node installs them)
# The runtime is the node image's Debian runc. go.sum starts from cri-o v1.34.0's own go.sum: the checksum database
# does not answer for some of its pseudo-versions, so every module is checked against the sums CRI-O recorded.
# Build tags, and why:
#   containers_image_openpgp      pure-Go signature checks (no libgpgme-dev)
#   containers_image_ostree_stub  no ostree (as CRI-O's own Makefile)
#   exclude_graphdriver_btrfs     no btrfs headers (libbtrfs-dev); the node uses the vfs storage driver anyway
#   (no seccomp tag: it needs libseccomp-dev, and the faults never start a container)
# Idempotent: a binary is rebuilt only when go.mod, go.sum or the flags changed (stamps in .tmp/binary-stamps).
# About 3 minutes the first time on 2 cores with the module cache warm. Needs Go >= 1.26, gcc and libc6-dev.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/tools/crio"
bin="$root/.tmp/bin"
debs="$root/.tmp/crio-debs"
stamps="$root/.tmp/binary-stamps"
mkdir -p "$bin" "$stamps" "$debs"
# The fault and drift matrices (both have a CRI-O node) may call this at the same time from .ci/run's two lanes:
# one builds, the other waits and then finds it up to date.
if command -v flock >/dev/null 2>&1 && [ -z "${CRIO_SETUP_LOCKED:-}" ]; then
    CRIO_SETUP_LOCKED=1 exec flock "$stamps/crio.lock" sh "$0" "$@"
fi
export GOPROXY="${GOPROXY:-https://proxy.golang.org}" GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
command -v go >/dev/null || { echo "crio setup: Go is needed (go 1.26 or newer)" >&2; exit 1; }
command -v gcc >/dev/null || { echo "crio setup: gcc is needed (pinns)" >&2; exit 1; }

module=github.com/cri-o/cri-o
version=$(sed -n "s#^[[:space:]]*$module \(v[^ ]*\).*#\1#p" "$dir/go.mod" | head -n 1)
tags="containers_image_openpgp containers_image_ostree_stub exclude_graphdriver_btrfs"
ldflags="-s -w"
sum=$( (cat "$dir/go.mod" "$dir/go.sum"; printf '%s\n' "$tags" "$ldflags" "$(go version)") | sha256sum | cut -d ' ' -f 1)

if [ -x "$bin/crio" ] && [ -x "$bin/pinns" ] && [ "$(cat "$stamps/crio" 2>/dev/null)" = "$sum" ]; then
    echo "crio setup: crio and pinns up to date"
else
    echo "crio setup: building crio $version"
    start=$(date +%s)
    (cd "$dir" && CGO_ENABLED=1 go build -p "${JOBS:-1}" -trimpath -tags "$tags" -ldflags "$ldflags" -o "$bin/crio.new" "$module/cmd/crio")
    src=$(cd "$dir" && go list -m -f '{{.Dir}}' "$module")
    gcc -std=c99 -Os -Wall -Wextra -static -o "$bin/pinns.new" "$src"/pinns/src/*.c
    mv -f "$bin/crio.new" "$bin/crio"
    mv -f "$bin/pinns.new" "$bin/pinns"
    printf '%s\n' "$sum" > "$stamps/crio"
    echo "crio setup: built crio and pinns in $(( $(date +%s) - start ))s"
fi

if ! ls "$debs"/conmon_*.deb "$debs"/libglib2.0-0_*.deb >/dev/null 2>&1; then
    # apt-get download as root writes where it runs; its sandbox user cannot, which is only a warning.
    (cd "$debs" && { apt-get download conmon libglib2.0-0 2>/dev/null || { apt-get update -qq && apt-get download conmon libglib2.0-0; }; })
fi
"$bin/crio" --version | sed -n '1p' | sed 's/^/crio setup: /'
for deb in "$debs"/*.deb; do echo "crio setup: ${deb##*/}"; done
