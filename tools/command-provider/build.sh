#!/usr/bin/env bash
# Builds the stand-in for pulumi-command 1.2.1's remote.Command (see README.md).
# Usage: tools/command-provider/build.sh [output-path]
# Default output: <repo>/.tmp/providers/pulumi-resource-command (not on PATH: the CLI would take it for an ambient plugin)
# Register it with:
#   pulumi plugin install resource command 1.2.1 --file <output-path>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../../.tmp/providers/pulumi-resource-command}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$(dirname "$out")"
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
export GOFLAGS="${GOFLAGS:--mod=mod}"
cd "$here"
go build -p "${GO_BUILD_P:-1}" -trimpath -o "$out" .
echo "built $out"
