#!/bin/sh
# Fetches Debian's containerd 1.7 (trixie) and 2.1 (sid) binaries into .tmp/containerd/<version>/,
# without touching the machine's apt state, so tests can validate config v2 and v3 files with
# `containerd --config FILE config dump` on several containerd versions.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$root/.tmp/containerd"
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
for pair in trixie:1.7.24 sid:2.1; do
    suite=${pair%%:*}
    want=${pair#*:}
    [ -x "$dest/$want/usr/bin/containerd" ] && continue
    work=$(mktemp -d)
    mkdir -p "$work/parts" "$work/lists/partial"
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" "$suite" >"$work/parts/$suite.sources"
    opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$work/parts -o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache -o Debug::NoLocking=1"
    mkdir -p "$work/cache/archives/partial"
    # shellcheck disable=SC2086
    apt-get $opts -qq update
    # shellcheck disable=SC2086
    version=$(apt-cache $opts madison containerd | awk -v w="$want" '$3 ~ "^"w {print $3; exit}')
    [ -n "$version" ] || { echo "fetch-containerd: no containerd $want in $suite" >&2; exit 1; }
    # shellcheck disable=SC2086
    (cd "$work" && apt-get $opts -qq download "containerd=$version")
    mkdir -p "$dest/$want"
    dpkg -x "$work"/containerd_*.deb "$dest/$want"
    rm -rf "$work"
    echo "fetch-containerd: containerd $version in $dest/$want"
done
