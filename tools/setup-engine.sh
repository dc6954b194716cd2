#!/bin/sh
# Builds the Pulumi engine this project runs for real, from the Go module proxy only, into .tmp/:
#   .tmp/bin/pulumi                   the Pulumi CLI, github.com/pulumi/pulumi/pkg/v3 (tools/pulumi-cli/go.mod)
#   .tmp/bin/pulumi-language-nodejs   the Node.js language host (tools/pulumi-language-nodejs/go.mod)
#   .tmp/providers/pulumi-resource-command  the command provider stand-in (tools/command-provider), not on PATH
#   .tmp/bin/pulumi-language-yaml     the YAML language host, github.com/pulumi/pulumi-yaml (tools/pulumi-language-yaml/go.mod)
#   .tmp/bin/pulumi-language-python   the Python language host and its exec shim (tools/pulumi-language-python/go.mod)
#   .tmp/bin/pulumi-gen-python        Python SDKs from a schema, pkg/v3's generator (tools/pulumi-language-python/gen-sdk)
# and installs the provider as `command` 1.2.1 into .tmp/pulumi-home (plugins/resource-command-v1.2.1/, as
# `pulumi plugin install` lays it out), where the engine finds it: on PATH the CLI would take it for an ambient
# plugin and print "warning: using pulumi-resource-command from $PATH" before every command. Idempotent: a binary whose
# go.mod/go.sum (and sources) did not change is not rebuilt. It writes the environment to source:
#   . .tmp/engine.env    (PATH, PULUMI_HOME, no plugin downloads, no update checks)
# Versions are pinned in each go.mod; the README says which modules the proxy does not serve.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tmp/bin"
providers="$root/.tmp/providers"
stamps="$root/.tmp/engine-stamps"
mkdir -p "$bin" "$providers" "$stamps"
# .ci/run's two workers start two suites at once, and each suite runs this first: one builds and installs, the other
# waits and then finds it up to date (without the lock the second truncated .tmp/engine.env while the first sourced it:
# "PULUMI_HOME: parameter not set", CI of 2026-12-07).
if command -v flock >/dev/null 2>&1 && [ -z "${ENGINE_SETUP_LOCKED:-}" ]; then
    ENGINE_SETUP_LOCKED=1 exec flock "$stamps/engine.lock" sh "$0" "$@"
fi
export GOPROXY="${GOPROXY:-https://proxy.golang.org}" GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
command -v go >/dev/null || { echo "setup-engine: Go is needed (go 1.25 or newer)" >&2; exit 1; }

# Built binaries are also kept outside the clone, keyed by their sources and the Go version, so a fresh clone (CI)
# copies them instead of linking eight binaries again (Go's build cache spares only the compiling).
cache="${PULUMI_NVIDIA_GPU_CACHE:-$HOME/.cache/pulumi-nvidia-gpu}/engine"
mkdir -p "$cache"
toolchain=$(go env GOVERSION)

# build NAME DIR PACKAGE [LDFLAGS] [OUT]: go build in DIR into OUT (default .tmp/bin) unless DIR's files are
# unchanged since the last build; a binary built from the same files before, in any clone, comes from the cache.
build() {
    name=$1; dir=$2; package=$3; ldflags=${4:-}; out=${5:-$bin}
    sum=$( (cd "$dir" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort | xargs sha256sum; echo "$toolchain $ldflags") | sha256sum | cut -d ' ' -f 1)
    if [ -x "$out/$name" ] && [ "$(cat "$stamps/$name" 2>/dev/null)" = "$sum" ]; then
        echo "setup-engine: $name up to date"; return 0
    fi
    cached="$cache/$name-$sum"
    if [ -x "$cached" ]; then
        echo "setup-engine: $name from the cache"
        cp "$cached" "$out/$name.new" && mv -f "$out/$name.new" "$out/$name"
    else
        echo "setup-engine: building $name"
        (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$out/$name.new" "$package") && mv -f "$out/$name.new" "$out/$name"
        cp "$out/$name" "$cached.$$" && mv -f "$cached.$$" "$cached"
    fi
    printf '%s\n' "$sum" > "$stamps/$name"
}

cli_version=$(sed -n 's#^\tgithub.com/pulumi/pulumi/pkg/v3 \(v[^ ]*\).*#\1#p' "$root/tools/pulumi-cli/go.mod")
build pulumi "$root/tools/pulumi-cli" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$cli_version"
host_version=$(sed -n 's#^\tgithub.com/pulumi/pulumi/sdk/v3 \(v[^ ]*\).*#\1#p' "$root/tools/pulumi-language-nodejs/go.mod")
build pulumi-language-nodejs "$root/tools/pulumi-language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$host_version"
build pulumi-resource-command "$root/tools/command-provider" . "" "$providers"
rm -f "$bin/pulumi-resource-command" # where earlier versions of this script put it, on PATH
# The YAML and Python language hosts, for the consumers of the multi-language package (test/consumers).
yaml_version=$(sed -n 's#^\tgithub.com/pulumi/pulumi-yaml \(v[^ ]*\).*#\1#p' "$root/tools/pulumi-language-yaml/go.mod")
build pulumi-language-yaml "$root/tools/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
    "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version"
python_version=$(sed -n 's#^\tgithub.com/pulumi/pulumi/sdk/v3 \(v[^ ]*\).*#\1#p' "$root/tools/pulumi-language-python/go.mod")
build pulumi-language-python "$root/tools/pulumi-language-python" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$python_version"
# Python SDKs from a schema: the CLI's `package gen-sdk` asks the language host, and v3.68.0's has no GeneratePackage.
build pulumi-gen-python "$root/tools/pulumi-language-python/gen-sdk" .
# The host runs programs through this shim script, which ships in the same module.
(cd "$root/tools/pulumi-language-python" && go mod download github.com/pulumi/pulumi/sdk/v3) # go list -m names cached modules only
python_sdk=$(cd "$root/tools/pulumi-language-python" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$python_sdk/python/cmd/pulumi-language-python-exec" "$bin/pulumi-language-python-exec"

# Written whole, then moved: a suite running beside this one may be reading it.
cat > "$root/.tmp/engine.env.tmp" <<ENV
# Written by tools/setup-engine.sh: the project's own Pulumi engine, which never downloads anything.
export PATH="$bin:\$PATH"
export PULUMI_HOME="$root/.tmp/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
ENV
mv -f "$root/.tmp/engine.env.tmp" "$root/.tmp/engine.env"
. "$root/.tmp/engine.env"
want=$(sha256sum "$providers/pulumi-resource-command" | cut -d ' ' -f 1)
installed="$PULUMI_HOME/plugins/resource-command-v1.2.1/pulumi-resource-command"
if [ ! -x "$installed" ] || [ "$(sha256sum "$installed" | cut -d ' ' -f 1)" != "$want" ]; then
    rm -rf "$PULUMI_HOME/plugins/resource-command-v1.2.1" "$PULUMI_HOME/plugins/resource-command-v1.2.1.lock"
    pulumi plugin install resource command 1.2.1 --file "$providers/pulumi-resource-command" >/dev/null
fi
echo "setup-engine: $(pulumi version) with $(pulumi plugin ls 2>/dev/null | awk '$1 == "command" { print "command " $3 }')"

# The Go language host and Go SDKs from a schema (issue 15), for the Go consumer and examples/go-docker-host:
#   .tmp/bin/pulumi-language-go   github.com/pulumi/pulumi/sdk/v3's go/pulumi-language-go (tools/pulumi-language-go/go.mod);
#                                 newer hosts live in their own module, which the proxy does not serve
#   .tmp/bin/pulumi-gen-go        Go SDKs from a schema, pkg/v3's codegen/go (tools/pulumi-language-go/gen-sdk)
go_version=$(sed -n 's#^\tgithub.com/pulumi/pulumi/sdk/v3 \(v[^ ]*\).*#\1#p' "$root/tools/pulumi-language-go/go.mod")
build pulumi-language-go "$root/tools/pulumi-language-go" github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$go_version"
build pulumi-gen-go "$root/tools/pulumi-language-go/gen-sdk" .
echo "setup-engine: pulumi-language-go $go_version, pulumi-gen-go (pkg/v3 $(sed -n 's#^\tgithub.com/pulumi/pulumi/pkg/v3 \(v[^ ]*\).*#\1#p' "$root/tools/pulumi-language-go/gen-sdk/go.mod"))"
