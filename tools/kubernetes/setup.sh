#!/bin/sh
# Builds a real Kubernetes from the Go module proxy, for test:k8s and the GPU suite's k8s phase. Versions are
# pinned in the go.mod files beside this script; each build is cached outside the clone in a folder keyed by
# version (and Go's build cache), and linked into .tmp/kubernetes/bin:
#   kubernetes-v1.34.4/     kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl (kubernetes/go.mod)
#   etcd-v3.6.8/            etcd (etcd/go.mod)
#   cni-plugins-v1.9.0/     bridge tap host-local loopback portmap (cni/go.mod)
#   k8s-device-plugin-v0.17.4/  nvidia-device-plugin (device-plugin/go.mod; GFD is not built, see there)
#   pulumi-kubernetes-<v>/  pulumi-resource-kubernetes, the real provider (provider/go.mod)
# Binaries are stripped (-s -w). Idempotent: a binary whose go.mod/go.sum did not change is not rebuilt.
# KUBERNETES_SETUP_ONLY="etcd kube-apiserver ..." builds only those names. Writes .tmp/kubernetes.env to source.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache="${PULUMI_NVIDIA_GPU_CACHE:-$HOME/.cache/pulumi-nvidia-gpu}"
links="$root/.tmp/kubernetes/bin"
mkdir -p "$links" "$cache"
# The binaries' cache is this machine's: two setups at once (a suite beside prepare-k8s, or two clones) wait in turn.
if command -v flock >/dev/null 2>&1 && [ -z "${KUBERNETES_SETUP_LOCKED:-}" ]; then
    KUBERNETES_SETUP_LOCKED=1 exec flock "$cache/kubernetes-setup.lock" sh "$0" "$@"
fi
export GOPROXY="${GOPROXY:-https://proxy.golang.org}" GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
command -v go >/dev/null || { echo "kubernetes setup: Go is needed (go 1.24 or newer)" >&2; exit 1; }
only=${KUBERNETES_SETUP_ONLY:-}

# pinned MODULE DIR: the version of MODULE that DIR/go.mod requires.
pinned() { sed -n "s#^[[:space:]]*\(require \)\{0,1\}$1 \(v[^ ]*\).*#\2#p" "$2/go.mod" | head -n 1; }

# build NAME DIR OUTDIR PACKAGE [LDFLAGS] [CGO]: go build PACKAGE in DIR into OUTDIR/NAME unless built from this go.sum.
build() {
    name=$1; dir=$2; out=$3; package=$4; ldflags=${5:-}; cgo=${6:-0}
    if [ -n "$only" ] && ! printf ' %s ' "$only" | grep -q " $name "; then return 0; fi
    sum=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -d ' ' -f 1)
    mkdir -p "$out"
    if [ -x "$out/$name" ] && [ "$(cat "$out/$name.stamp" 2>/dev/null)" = "$sum" ]; then
        echo "kubernetes setup: $name up to date ($out)"
    else
        echo "kubernetes setup: building $name into $out"
        start=$(date +%s)
        (cd "$dir" && CGO_ENABLED=$cgo go build -trimpath -ldflags "-s -w $ldflags" -o "$out/$name.new" "$package")
        mv -f "$out/$name.new" "$out/$name"
        printf '%s\n' "$sum" > "$out/$name.stamp"
        echo "kubernetes setup: built $name in $(($(date +%s) - start)) s, $(($(stat -c %s "$out/$name") / 1048576)) MiB"
    fi
    ln -sfn "$out/$name" "$links/$name"
}

# etcd and the control plane first: the apiserver check needs only these.
etcd_version=$(pinned go.etcd.io/etcd/server/v3 "$here/etcd")
build etcd "$here/etcd" "$cache/etcd-$etcd_version" go.etcd.io/etcd/server/v3

k8s_version=$(pinned k8s.io/kubernetes "$here/kubernetes")
minor=$(echo "$k8s_version" | cut -d . -f 2)
k8s_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_ldflags="$k8s_ldflags -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
k8s_out="$cache/kubernetes-$k8s_version"
for cmd in kube-apiserver kube-controller-manager kubectl; do
    build "$cmd" "$here/kubernetes" "$k8s_out" "k8s.io/kubernetes/cmd/$cmd" "$k8s_ldflags"
done

# The real Pulumi Kubernetes provider: main.go embeds schema-embed.json and terraform-mapping-embed.json, which
# its generate.go writes and the module zip lacks, so both files are copied out and generated in a build folder.
provider_version=$(pinned github.com/pulumi/pulumi-kubernetes/provider/v4 "$here/provider")
# The source is about v4.25 (its schema.json has no version); the npm SDK (4.34) warns that it wants a newer one.
provider_semver=4.25.0
provider_out="$cache/pulumi-kubernetes-$provider_version"
if [ -z "$only" ] || printf ' %s ' "$only" | grep -q " pulumi-resource-kubernetes "; then
    # `go list -m` names the module's folder only once it is in the module cache (empty before: a fresh machine's CI).
    (cd "$here/provider" && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4)
    src=$(cd "$here/provider" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
    [ -n "$src" ] || { echo "kubernetes setup: no source folder for github.com/pulumi/pulumi-kubernetes/provider/v4" >&2; exit 1; }
    work="$provider_out/src"
    mkdir -p "$work/cmd"
    cp "$here/provider/go.mod" "$here/provider/go.sum" "$here/provider/tools.go" "$work/"
    for f in main.go generate.go schema.json terraform-mapping.json; do install -m 0644 "$src/cmd/pulumi-resource-kubernetes/$f" "$work/cmd/$f"; done
    if [ ! -s "$work/cmd/schema-embed.json" ] || [ "$(cat "$work/generated" 2>/dev/null)" != "$provider_semver" ]; then
        (cd "$work/cmd" && VERSION=$provider_semver go run ./generate.go) && echo "$provider_semver" > "$work/generated"
    fi
    build pulumi-resource-kubernetes "$work" "$provider_out" ./cmd \
        "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$provider_semver"
fi

# The node side: scheduler, kubelet, CNI plugins, NVIDIA's device plugin (go-nvml needs cgo; it dlopens libnvidia-ml).
for cmd in kube-scheduler kubelet; do
    build "$cmd" "$here/kubernetes" "$k8s_out" "k8s.io/kubernetes/cmd/$cmd" "$k8s_ldflags"
done
cni_version=$(pinned github.com/containernetworking/plugins "$here/cni")
for plugin in main/bridge main/tap ipam/host-local main/loopback meta/portmap; do
    build "$(basename "$plugin")" "$here/cni" "$cache/cni-plugins-$cni_version" \
        "github.com/containernetworking/plugins/plugins/$plugin"
done
dp_version=$(pinned github.com/NVIDIA/k8s-device-plugin "$here/device-plugin")
build nvidia-device-plugin "$here/device-plugin" "$cache/k8s-device-plugin-$dp_version" \
    github.com/NVIDIA/k8s-device-plugin/cmd/nvidia-device-plugin \
    "-X github.com/NVIDIA/k8s-device-plugin/internal/info.version=$dp_version" 1

cat > "$root/.tmp/kubernetes.env" <<ENV
# Written by tools/kubernetes/setup.sh: the real Kubernetes binaries built from the Go module proxy.
export KUBERNETES_BIN="$links"
export KUBERNETES_VERSION="$k8s_version"
export PULUMI_KUBERNETES_PROVIDER_VERSION="$provider_semver"
ENV
echo "kubernetes setup: $(ls "$links" | tr '\n' ' ')"
