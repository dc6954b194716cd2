#!/bin/sh
# Builds NVIDIA's toolkit binaries at every version the e2e packages carry, from the Go module proxy only, into
# .tmp/bin/toolkit/<version>/: nvidia-ctk, nvidia-container-runtime, nvidia-container-runtime-hook, nvidia-cdi-hook,
# and nvidia-container-runtime.cdi/.legacy (NVIDIA's rpm spec installs them):
#   1.17.8, 1.19.0    github.com/NVIDIA/nvidia-container-toolkit, pinned by tools/toolkit/<version>/go.mod
#   1.20.0            pinned by tools/nvidia-ctk/go.mod (the same module tools/setup-binaries.sh builds)
# 1.21.0-rc.1 is not served by the Go module proxy ("not available"), so the e2e repo keeps stand-ins for that
# version. Same flags as setup-binaries.sh (NVIDIA's Makefile link flags, -X for `--version`); a version is
# rebuilt only when its go.mod, go.sum or the flags change (stamp in its folder).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
export GOPROXY="${GOPROXY:-https://proxy.golang.org}" GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"
jobs=${JOBS:-1}
command -v go >/dev/null || { echo "setup-toolkit-versions: Go is needed" >&2; exit 1; }
command -v gcc >/dev/null || { echo "setup-toolkit-versions: gcc is needed (cgo)" >&2; exit 1; }
tk=github.com/NVIDIA/nvidia-container-toolkit
for dir in "$root"/tools/nvidia-ctk/ "$root"/tools/toolkit/*/; do
    dir=${dir%/}
    version=$(sed -n "s#^[[:space:]]*$tk v\([^ ]*\).*#\1#p" "$dir/go.mod" | head -n 1)
    bin="$root/.tmp/bin/toolkit/$version"
    stamp="$bin/.stamp"
    ldflags="-s -w '-extldflags=-Wl,--export-dynamic -Wl,--unresolved-symbols=ignore-in-object-files -Wl,-z,lazy' -X $tk/internal/info.version=$version"
    sum=$( (cat "$dir/go.mod" "$dir/go.sum"; printf '%s\n' "$ldflags" "$(go version)") | sha256sum | cut -d ' ' -f 1)
    if [ -x "$bin/nvidia-ctk" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
        echo "setup-toolkit-versions: $version up to date"; continue
    fi
    mkdir -p "$bin"; rm -f "$stamp"
    for cmd in nvidia-ctk nvidia-container-runtime nvidia-container-runtime-hook nvidia-cdi-hook nvidia-container-runtime.cdi nvidia-container-runtime.legacy; do
        echo "setup-toolkit-versions: building $cmd $version"
        (cd "$dir" && CGO_ENABLED=1 go build -p "$jobs" -trimpath -ldflags "$ldflags" -o "$bin/$cmd.new" "$tk/cmd/$cmd")
        mv -f "$bin/$cmd.new" "$bin/$cmd"
    done
    printf '%s\n' "$sum" > "$stamp"
    "$bin/nvidia-ctk" --version | head -n 1 | sed 's/^/setup-toolkit-versions: /'
done
