#!/bin/sh
# Builds NVIDIA's real toolkit and containerd 2.2–2.4 from the Go module proxy only, into .tmp/bin/:
#   nvidia-ctk, nvidia-container-runtime, nvidia-container-runtime-hook, nvidia-cdi-hook
#       github.com/NVIDIA/nvidia-container-toolkit v1.20.0 (tools/nvidia-ctk/go.mod)
#   containerd-2.2, containerd-2.3, containerd-2.4
#       github.com/containerd/containerd/v2 v2.2.9, v2.3.7, v2.4.2 (tools/containerd/<minor>/go.mod)
# Each version is pinned by a `tool` directive in a small tools module of its own: `go install mod@version`
# refuses modules with replace directives, and one module per containerd keeps their dependency graphs apart.
# Idempotent: a binary is rebuilt only when its go.mod, go.sum or build flags changed (stamps in
# .tmp/binary-stamps). Build flags, and why:
#   toolkit     CGO_ENABLED=1 with NVIDIA's own link flags (Makefile EXTLDFLAGS): go-nvml is cgo and dlopens
#               libnvidia-ml at run time, so its symbols stay unresolved at link time; -X sets `--version`.
#   containerd  CGO_ENABLED=1 -tags "no_btrfs urfave_cli_no_docs": btrfs is the only builtin that needs C
#               headers (libbtrfs-dev); urfave_cli_no_docs is in containerd's own Makefile; -X sets `--version`.
# Both use `go build -p 1` (default JOBS=1): the machine is small and shared. Needs Go ≥ 1.26 (containerd 2.3
# and 2.4 require it) and gcc.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tmp/bin"
stamps="$root/.tmp/binary-stamps"
mkdir -p "$bin" "$stamps"
export GOPROXY="${GOPROXY:-https://proxy.golang.org}" GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
# go-nvml declares NVML functions deprecated in CUDA 13; its cgo prologue would print a warning for each.
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}"
jobs=${JOBS:-1}
command -v go >/dev/null || { echo "setup-binaries: Go is needed (go 1.26 or newer)" >&2; exit 1; }
command -v gcc >/dev/null || { echo "setup-binaries: gcc is needed (cgo)" >&2; exit 1; }

# build NAME DIR PACKAGE CGO TAGS LDFLAGS: go build in DIR unless go.mod, go.sum and the flags are unchanged.
build() {
    name=$1; dir=$2; package=$3; cgo=$4; tags=$5; ldflags=$6
    sum=$( (cat "$dir/go.mod" "$dir/go.sum"; printf '%s\n' "$package" "$cgo" "$tags" "$ldflags" "$(go version)") | sha256sum | cut -d ' ' -f 1)
    if [ -x "$bin/$name" ] && [ "$(cat "$stamps/$name" 2>/dev/null)" = "$sum" ]; then
        echo "setup-binaries: $name up to date"; return 0
    fi
    echo "setup-binaries: building $name ($package)"
    start=$(date +%s)
    (cd "$dir" && CGO_ENABLED=$cgo go build -p "$jobs" -trimpath -tags "$tags" -ldflags "$ldflags" -o "$bin/$name.new" "$package")
    mv -f "$bin/$name.new" "$bin/$name"
    printf '%s\n' "$sum" > "$stamps/$name"
    echo "setup-binaries: built $name in $(( $(date +%s) - start ))s"
}

# version MODDIR MODULE: the version a tools module pins.
version() { sed -n "s#^[[:space:]]*$2 \(v[^ ]*\).*#\1#p" "$1/go.mod" | head -n 1; }

toolkit="$root/tools/nvidia-ctk"
tk=github.com/NVIDIA/nvidia-container-toolkit
tk_version=$(version "$toolkit" $tk)
tk_ldflags="-s -w '-extldflags=-Wl,--export-dynamic -Wl,--unresolved-symbols=ignore-in-object-files -Wl,-z,lazy' -X $tk/internal/info.version=${tk_version#v}"
for cmd in nvidia-ctk nvidia-container-runtime nvidia-container-runtime-hook nvidia-cdi-hook; do
    build "$cmd" "$toolkit" "$tk/cmd/$cmd" 1 "" "$tk_ldflags"
done

cd_module=github.com/containerd/containerd/v2
for dir in "$root"/tools/containerd/*/; do
    dir=${dir%/}
    minor=$(basename "$dir")
    cd_version=$(version "$dir" $cd_module)
    build "containerd-$minor" "$dir" "$cd_module/cmd/containerd" 1 "no_btrfs urfave_cli_no_docs" \
        "-s -w -X $cd_module/version.Version=$cd_version -X $cd_module/version.Package=$cd_module"
done

"$bin/nvidia-ctk" --version | head -n 1 | sed 's/^/setup-binaries: /'
for c in "$bin"/containerd-*; do "$c" --version | sed 's/^/setup-binaries: /'; done
