#!/bin/sh
# Builds NVIDIA-like package repositories for the e2e fleet: `build-repo.sh [OUT [VERSION...]]`
# (OUT defaults to .tmp/e2e-repo; VERSION to all of 1.17.8-1 1.19.0-1 1.20.0-1 1.21.0~rc.1-1):
#   stable/deb/amd64  stable/rpm/x86_64        every version but the release candidate
#   experimental/...                           every version
#   wrongsig/...      the same, InRelease signed by another key (fault tests)
#   gpgkey, wrong-gpgkey, fingerprint          the signing key (armored, as NVIDIA serves it), its fingerprint
# with the four package names and NVIDIA's dependencies.
#
# What the packages carry:
#   1.17.8, 1.19.0, 1.20.0   NVIDIA's real nvidia-ctk, nvidia-container-runtime, nvidia-container-runtime-hook and
#       nvidia-cdi-hook, built from the Go module proxy by tools/setup-toolkit-versions.sh (.tmp/bin/toolkit/<v>), laid
#       out as NVIDIA's own packaging of that version says (packaging/debian/*.install, *.postinst, *.postrm,
#       *.maintscript, control; packaging/rpm/SPECS/nvidia-container-toolkit.spec; deployments/systemd: the
#       nvidia-cdi-refresh units from 1.19 on), read from the module's source in the Go module cache. The deb
#       maintainer scripts get the snippets debhelper adds (`dh --with systemd`, dpkg-maintscript-helper); the
#       rpm spec is built as is, with the systemd macros Debian's rpm lacks defined. The base package's postinst
#       runs the real `nvidia-ctk config --in-place`, which writes /etc/nvidia-container-runtime/config.toml.
#   1.21.0~rc.1              STAND-INS (test/e2e/fleet/package-stand-ins/): the Go module proxy does not serve it.
#   libnvidia-container1, libnvidia-container-tools (every version)   STAND-INS: libnvidia-container is C, not
#       built here; nvidia-container-cli reports its version and fails for anything else.
# Nothing GPU-specific is faked inside the packages: on the fleet's GPU-less nodes, test/e2e/fleet/gpu-stand-ins/
# stands in for what needs a GPU. The same packages install unchanged on a GPU host.
#
# Rebuilt only when an input changed (this script, the stand-ins, the binaries, NVIDIA's packaging files, the
# version list): a content stamp. Each build goes into OUT.<stamp> and OUT is a symlink switched to it by one
# rename, so suites serving OUT at the same time see the old repo or the new one, never half of each. The
# signing keys live in OUT.gnupg and are kept, so the fingerprint survives rebuilds.
# shellcheck disable=SC2016 # maintainer scripts and rpm macros are written with their $1 unexpanded
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-$root/.tmp/e2e-repo}
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
out=${out%/}
[ $# -gt 0 ] && shift
versions=${*:-1.17.8-1 1.19.0-1 1.20.0-1 1.21.0~rc.1-1}
bins=${TOOLKIT_BINARIES:-$root/.tmp/bin/toolkit}
modcache=$(go env GOMODCACHE 2>/dev/null || echo "${GOPATH:-$HOME/go}/pkg/mod")
source_of() { echo "$modcache/github.com/!n!v!i!d!i!a/nvidia-container-toolkit@v$1"; }
is_real() { [ -x "$bins/$1/nvidia-ctk" ] && [ -d "$(source_of "$1")/packaging" ]; }
# Versions built from NVIDIA's source; the rest are stand-ins, and only the release candidate may be one.
for v in $versions; do
    ver=${v%-*}
    case "$ver" in
        *~*) ;;
        *) is_real "$ver" || { echo "build-repo: no real binaries for $ver in $bins (run: sh tools/setup-toolkit-versions.sh)" >&2; exit 1; } ;;
    esac
done

# The content stamp of every input.
stamp=$(
    {
        echo "$versions"
        cat "$0" "$here"/package-stand-ins/*
        for v in $versions; do
            ver=${v%-*}
            if is_real "$ver"; then
                sha256sum "$bins/$ver"/nvidia-*
                src=$(source_of "$ver")
                find "$src/packaging" "$src/deployments/systemd" -type f 2>/dev/null | LC_ALL=C sort | xargs cat
            fi
        done
    } | sha256sum | cut -c 1-12
)
exec 9>"$out.lock"
flock 9
if [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] && [ -f "$out/fingerprint" ]; then
    echo "repo ready: $out (stamp $stamp)"
    exit 0
fi
build="$out.$stamp"
rm -rf "$build"
mkdir -p "$build"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pool"

# Signing keys, kept across rebuilds.
export GNUPGHOME="$out.gnupg"
if ! gpg --batch --list-secret-keys e2e@localhost >/dev/null 2>&1 || ! gpg --batch --list-secret-keys wrong@localhost >/dev/null 2>&1; then
    rm -rf "$GNUPGHOME"
    mkdir -m 700 "$GNUPGHOME"
    gpg --batch --passphrase '' --quick-gen-key "e2e repo <e2e@localhost>" rsa2048 sign never 2>/dev/null
    gpg --batch --passphrase '' --quick-gen-key "wrong key <wrong@localhost>" rsa2048 sign never 2>/dev/null
fi
fpr=$(gpg --batch --with-colons --list-keys e2e@localhost | awk -F: '$1 == "fpr" { print $10; exit }')
gpg --batch --armor --export e2e@localhost >"$build/gpgkey"
gpg --batch --armor --export wrong@localhost >"$build/wrong-gpgkey"

# ---- deb ----------------------------------------------------------------------------------------------------
# control NAME VERSION SRC-CONTROL: NVIDIA's stanza for NAME with debian/prepare's substitutions, as dpkg-gencontrol
# writes it (Architecture amd64, the substvars empty).
control() {
    awk -v name="$1" -v version="$2" '
        BEGIN { RS = ""; FS = "\n" }
        $1 == "Package: " name {
            print "Package: " name; print "Version: " version; print "Architecture: amd64"
            print "Maintainer: NVIDIA CORPORATION <cudatools@nvidia.com>"; print "Section: utils"; print "Priority: optional"
            print "Homepage: https://github.com/NVIDIA/nvidia-container-toolkit"
            for (i = 2; i <= NF; i++) {
                line = $i
                if (line ~ /^Architecture:/) continue
                gsub(/\$\{misc:[A-Za-z-]+\}(, )?/, "", line)
                gsub(/@VERSION@|@LIBNVIDIA_CONTAINER_TOOLS_VERSION@/, version, line)
                if (line ~ /^[A-Za-z-]+: *$/) continue
                print line
            }
            print " ."; print " Built for the pulumi-nvidia-gpu e2e fleet from NVIDIA'"'"'s Go sources (Go module proxy)."
        }' "$3"
}
# The snippets debhelper adds for the units a package ships in /lib/systemd/system (dh --with systemd).
dh_systemd_postinst() {
    for unit in "$@"; do
        cat <<EOF
if [ "\$1" = "configure" ] || [ "\$1" = "abort-upgrade" ] || [ "\$1" = "abort-deconfigure" ] || [ "\$1" = "abort-remove" ] ; then
	deb-systemd-helper unmask '$unit' >/dev/null || true
	if deb-systemd-helper --quiet was-enabled '$unit'; then
		deb-systemd-helper enable '$unit' >/dev/null || true
	else
		deb-systemd-helper update-state '$unit' >/dev/null || true
	fi
fi
EOF
    done
    cat <<EOF
if [ "\$1" = "configure" ] || [ "\$1" = "abort-upgrade" ] || [ "\$1" = "abort-deconfigure" ] || [ "\$1" = "abort-remove" ] ; then
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "\$2" ]; then _dh_action=restart; else _dh_action=start; fi
		deb-systemd-invoke \$_dh_action $(printf "'%s' " "$@")>/dev/null || true
	fi
fi
EOF
}
dh_systemd_prerm() {
    printf 'if [ -d /run/systemd/system ] && [ "$1" = remove ]; then\n\tdeb-systemd-invoke stop %s>/dev/null || true\nfi\n' "$(printf "'%s' " "$@")"
}
dh_systemd_postrm() {
    printf 'if [ -d /run/systemd/system ]; then\n\tsystemctl --system daemon-reload >/dev/null || true\nfi\n'
    printf 'if [ "$1" = "purge" ]; then\n\tif [ -x "/usr/bin/deb-systemd-helper" ]; then\n\t\tdeb-systemd-helper purge %s>/dev/null || true\n\tfi\nfi\n' "$(printf "'%s' " "$@")"
}
# maintscript NAME ROOT SRC-SCRIPT SNIPPET-FILE: NVIDIA's maintainer script (or a bare one) with #DEBHELPER# replaced.
maintscript() {
    [ -f "$3" ] || [ -s "$4" ] || return 0
    if [ -f "$3" ]; then
        awk -v snippet="$4" '$0 == "#DEBHELPER#" { while ((getline l < snippet) > 0) print l; next } { print }' "$3" >"$2/DEBIAN/$1"
    else
        { printf '#!/bin/sh\nset -e\n'; cat "$4"; } >"$2/DEBIAN/$1"
    fi
    chmod 755 "$2/DEBIAN/$1"
}
deb_from_source() { # NAME VERSION(upstream) DEBVERSION
    name=$1; ver=$2; v=$3; src=$(source_of "$ver"); deb=$src/packaging/debian; r="$work/deb-$name-$v"
    mkdir -p "$r/DEBIAN"
    while read -r file dest; do
        [ -n "$file" ] || continue
        if [ -f "$bins/$ver/$file" ]; then from="$bins/$ver/$file"; mode=755; else from="$src/deployments/systemd/$file"; mode=644; fi
        [ -f "$from" ] || { echo "build-repo: $name $ver installs $file, found in neither $bins/$ver nor deployments/systemd" >&2; exit 1; }
        mkdir -p "$r/${dest%/}"
        install -m "$mode" "$from" "$r/${dest%/}/$file"
    done <"$deb/$name.install"
    control "$name" "$v" "$deb/control" >"$r/DEBIAN/control"
    [ -d "$r/etc" ] && (cd "$r" && find etc -type f | LC_ALL=C sort | sed 's#^#/#') >"$r/DEBIAN/conffiles"
    units=$(cd "$r" && find lib/systemd/system -name '*.path' -o -name '*.service' 2>/dev/null | LC_ALL=C sort | xargs -r -n 1 basename | tr '\n' ' ')
    : >"$work/pre"; : >"$work/post"; : >"$work/prerm"; : >"$work/postrm"
    if [ -f "$deb/$name.maintscript" ]; then
        sed "s/@VERSION@/$v/g" "$deb/$name.maintscript" | while read -r action args; do
            [ -n "$action" ] && echo "dpkg-maintscript-helper $action $args -- \"\$@\""
        done >"$work/maint"
        cat "$work/maint" >>"$work/pre"; cat "$work/maint" >>"$work/post"; cat "$work/maint" >>"$work/postrm"
    fi
    if [ -n "$units" ]; then
        # shellcheck disable=SC2086
        { dh_systemd_postinst $units >>"$work/post"; dh_systemd_prerm $units >>"$work/prerm"; dh_systemd_postrm $units >>"$work/postrm"; }
    fi
    maintscript preinst "$r" "$deb/$name.preinst" "$work/pre"
    maintscript postinst "$r" "$deb/$name.postinst" "$work/post"
    maintscript prerm "$r" "$deb/$name.prerm" "$work/prerm"
    maintscript postrm "$r" "$deb/$name.postrm" "$work/postrm"
    dpkg-deb --root-owner-group --build "$r" "$work/pool/${name}_${v}_amd64.deb" >/dev/null
}
# stand_in FILE VERSION DEST: a package stand-in with its version filled in.
stand_in() { sed "s/@VERSION@/$2/g" "$here/package-stand-ins/$1" >"$3"; chmod 755 "$3"; }
deb_stand_in() { # NAME VERSION DEPENDS ROOT
    mkdir -p "$4/DEBIAN"
    {
        echo "Package: $1"; echo "Version: $2"; echo "Architecture: amd64"
        echo "Maintainer: e2e <e2e@localhost>"; echo "Description: e2e stand-in for NVIDIA's $1"
        [ -n "$3" ] && echo "Depends: $3"
    } >"$4/DEBIAN/control"
    dpkg-deb --root-owner-group --build "$4" "$work/pool/${1}_${2}_amd64.deb" >/dev/null
}

for v in $versions; do
    ver=${v%-*}
    # libnvidia-container: stand-ins at every version.
    r="$work/lib-$v"; mkdir -p "$r/usr/share/doc/libnvidia-container1"
    echo "e2e stand-in for libnvidia-container1 $v (C, not built here)" >"$r/usr/share/doc/libnvidia-container1/E2E-STAND-IN"
    deb_stand_in libnvidia-container1 "$v" "" "$r"
    r="$work/tools-$v"; mkdir -p "$r/usr/bin"; stand_in nvidia-container-cli "$v" "$r/usr/bin/nvidia-container-cli"
    deb_stand_in libnvidia-container-tools "$v" "libnvidia-container1 (= $v)" "$r"
    if is_real "$ver"; then
        deb_from_source nvidia-container-toolkit-base "$ver" "$v"
        deb_from_source nvidia-container-toolkit "$ver" "$v"
    else
        r="$work/base-$v"; mkdir -p "$r/usr/bin" "$r/DEBIAN"
        for f in nvidia-ctk nvidia-container-runtime nvidia-cdi-hook; do stand_in "$f" "$v" "$r/usr/bin/$f"; done
        printf '#!/bin/sh\nset -e\nmkdir -p /etc/nvidia-container-runtime\n[ -e /etc/nvidia-container-runtime/config.toml ] || printf "[nvidia-container-cli]\\n#no-cgroups = false\\nload-kmods = true\\n" > /etc/nvidia-container-runtime/config.toml\n' >"$r/DEBIAN/postinst"
        chmod 755 "$r/DEBIAN/postinst"
        deb_stand_in nvidia-container-toolkit-base "$v" "" "$r"
        r="$work/ctk-$v"; mkdir -p "$r/usr/bin"; stand_in nvidia-container-runtime-hook "$v" "$r/usr/bin/nvidia-container-runtime-hook"
        deb_stand_in nvidia-container-toolkit "$v" "nvidia-container-toolkit-base (= $v), libnvidia-container-tools (= $v), libnvidia-container-tools (<< 2.0.0)" "$r"
    fi
done

# sign_deb DIR KEY: Packages, Release, InRelease and Release.gpg of a flat repository.
sign_deb() {
    (cd "$1" && apt-ftparchive packages . >Packages && gzip -kf Packages && apt-ftparchive release . >Release)
    rm -f "$1/InRelease" "$1/Release.gpg"
    gpg --batch --yes --local-user "$2" --clearsign -o "$1/InRelease" "$1/Release"
    gpg --batch --yes --local-user "$2" -abs -o "$1/Release.gpg" "$1/Release"
}
for channel in stable experimental; do
    dir="$build/$channel/deb/amd64"; mkdir -p "$dir"
    for deb in "$work"/pool/*.deb; do
        case "$channel:$deb" in stable:*~rc*) continue ;; esac
        ln "$deb" "$dir/" 2>/dev/null || cp "$deb" "$dir/"
    done
    sign_deb "$dir" e2e@localhost
done
# A repository signed by the wrong key, for the fault test (packages hard-linked, signatures its own).
mkdir -p "$build/wrongsig/stable/deb/amd64" "$build/wrongsig/experimental/deb/amd64"
for channel in stable experimental; do
    for f in "$build/$channel/deb/amd64"/*.deb; do ln "$f" "$build/wrongsig/$channel/deb/amd64/"; done
    (cd "$build/$channel/deb/amd64" && cp Packages Packages.gz Release "$build/wrongsig/$channel/deb/amd64/")
done
gpg --batch --yes --local-user wrong@localhost --clearsign -o "$build/wrongsig/stable/deb/amd64/InRelease" "$build/wrongsig/stable/deb/amd64/Release"
cp "$build/experimental/deb/amd64/InRelease" "$build/experimental/deb/amd64/Release.gpg" "$build/wrongsig/experimental/deb/amd64/"
cp "$build/gpgkey" "$build/wrongsig/gpgkey"

# ---- rpm ----------------------------------------------------------------------------------------------------
# Real versions: NVIDIA's spec as is, with the systemd macros (systemd-rpm-macros) Debian's rpm lacks, no automatic
# dependencies on libraries (Debian's rpm database is empty), no post-install processing of the Go binaries (brp
# scripts) and no build-id links. The scriptlets' own `Requires: /bin/sh` stays, as on NVIDIA's packages: the fleet's
# rpm nodes register Debian's /bin/sh in their rpm database (gpu-stand-ins/install.sh).
rpmtop="$work/rpmbuild"; mkdir -p "$rpmtop/SPECS" "$rpmtop/SOURCES" "$rpmtop/BUILD" "$rpmtop/RPMS"
rpm_macros='%define systemd_post() if [ $1 -eq 1 ] && command -v systemctl >/dev/null 2>&1; then systemctl --no-reload preset %{?*} >/dev/null 2>&1 || :; fi
%define systemd_preun() if [ $1 -eq 0 ] && command -v systemctl >/dev/null 2>&1; then systemctl --no-reload disable --now %{?*} >/dev/null 2>&1 || :; fi
%define systemd_postun() if [ $1 -ge 1 ] && command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload >/dev/null 2>&1 || :; fi
%global __requires_exclude .*
%global debug_package %{nil}
%global __os_install_post %{nil}
%global _build_id_links none'
rpmbuild_quiet() { # SPEC DEFINES...
    spec=$1; shift
    log="$work/rpmbuild-$(basename "$spec").log"
    rpmbuild --nodeps --define "_topdir $rpmtop" "$@" -bb "$spec" >"$log" 2>&1 || { tail -n 20 "$log" >&2; echo "build-repo: rpmbuild failed for $spec" >&2; exit 1; }
}
for v in $versions; do
    ver=${v%-*}; rel=${v##*-}
    for spec in "libnvidia-container1:" "libnvidia-container-tools:libnvidia-container1 = $v"; do
        name=${spec%%:*}; requires=${spec#*:}
        file=""; [ "$name" = libnvidia-container-tools ] && file=/usr/bin/nvidia-container-cli
        [ -n "$file" ] && stand_in nvidia-container-cli "$v" "$rpmtop/SOURCES/nvidia-container-cli-$v"
        cat >"$rpmtop/SPECS/$name-$v.spec" <<SPEC
Name: $name
Version: $ver
Release: $rel
Summary: e2e stand-in for NVIDIA's $name
License: Apache-2.0
BuildArch: x86_64
AutoReqProv: no
$([ -n "$requires" ] && echo "Requires: $requires")
%description
e2e stand-in for NVIDIA's $name (libnvidia-container is C, not built here).
%install
mkdir -p %{buildroot}/usr/share/nvidia-e2e
echo "e2e stand-in: $name $v" > %{buildroot}/usr/share/nvidia-e2e/$name
$([ -n "$file" ] && printf 'mkdir -p %%{buildroot}/usr/bin\ninstall -m 755 %s %%{buildroot}%s\n' "$rpmtop/SOURCES/nvidia-container-cli-$v" "$file")
%files
/usr/share/nvidia-e2e/$name
$([ -n "$file" ] && echo "$file")
SPEC
        rpmbuild_quiet "$rpmtop/SPECS/$name-$v.spec"
    done
    if is_real "$ver"; then
        src=$(source_of "$ver")
        sources="$rpmtop/SOURCES-$ver"; mkdir -p "$sources"
        cp "$bins/$ver"/nvidia-* "$src/packaging/rpm/SOURCES/LICENSE" "$sources/"
        [ -d "$src/deployments/systemd" ] && cp "$src/deployments/systemd"/* "$sources/"
        { printf '%s\n' "$rpm_macros"; cat "$src/packaging/rpm/SPECS/nvidia-container-toolkit.spec"; } >"$rpmtop/SPECS/nvidia-container-toolkit-$v.spec"
        rpmbuild_quiet "$rpmtop/SPECS/nvidia-container-toolkit-$v.spec" --define "_sourcedir $sources" \
            --define "version $ver" --define "release $rel" --define "git_commit v$ver" --define "release_date Mon Jan 05 2026" \
            --define "libnvidia_container_tools_version $v" --define "_unitdir /usr/lib/systemd/system" \
            --define "_presetdir /usr/lib/systemd/system-preset"
    else
        for spec in "nvidia-container-toolkit-base:" "nvidia-container-toolkit:nvidia-container-toolkit-base = $v, libnvidia-container-tools = $v"; do
            name=${spec%%:*}; requires=${spec#*:}
            if [ "$name" = nvidia-container-toolkit-base ]; then files="nvidia-ctk nvidia-container-runtime nvidia-cdi-hook"; else files=nvidia-container-runtime-hook; fi
            for f in $files; do stand_in "$f" "$v" "$rpmtop/SOURCES/$f-$v"; done
            cat >"$rpmtop/SPECS/$name-$v.spec" <<SPEC
Name: $name
Version: $ver
Release: $rel
Summary: e2e stand-in for NVIDIA's $name
License: Apache-2.0
BuildArch: x86_64
AutoReqProv: no
$([ -n "$requires" ] && echo "Requires: $requires")
%description
e2e stand-in for NVIDIA's $name $v (not served by the Go module proxy).
%install
mkdir -p %{buildroot}/usr/bin
$(for f in $files; do printf 'install -m 755 %s %%{buildroot}/usr/bin/%s\n' "$rpmtop/SOURCES/$f-$v" "$f"; done)
%files
$(for f in $files; do echo "/usr/bin/$f"; done)
SPEC
            rpmbuild_quiet "$rpmtop/SPECS/$name-$v.spec"
        done
    fi
done
rm -f "$rpmtop"/RPMS/x86_64/nvidia-container-toolkit-operator-extensions-*.rpm
for channel in stable experimental; do
    dir="$build/$channel/rpm/x86_64"; mkdir -p "$dir"
    for rpmfile in "$rpmtop"/RPMS/x86_64/*.rpm; do
        case "$channel:$rpmfile" in stable:*~rc*) continue ;; esac
        ln "$rpmfile" "$dir/" 2>/dev/null || cp "$rpmfile" "$dir/"
    done
    createrepo_c --quiet "$dir"
    gpg --batch --yes --local-user e2e@localhost --armor --detach-sign -o "$dir/repodata/repomd.xml.asc" "$dir/repodata/repomd.xml"
done
set -- "$build"/stable/rpm/x86_64/*.rpm
[ -e "$1" ] || { echo "build-repo: no rpm was built" >&2; exit 1; }
echo "$fpr" >"$build/fingerprint"
echo "$stamp" >"$build/stamp"

# Switch OUT to the new build by one rename; a plain folder from an older build-repo.sh is moved aside first.
ln -s "$(basename "$build")" "$out.link.$$"
if [ -d "$out" ] && [ ! -L "$out" ]; then mv "$out" "$out.old.$$"; fi
mv -T "$out.link.$$" "$out"
for old in "$out".old.* "$out".????????????; do
    [ -e "$old" ] && [ "$old" != "$build" ] && rm -rf "$old"
done
echo "repo ready: $out -> $(basename "$build") ($fpr)"
