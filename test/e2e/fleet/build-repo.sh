#!/bin/sh
# Builds NVIDIA-like package repositories for the e2e fleet into $1 (default .tmp/e2e-repo):
#   stable/deb/amd64        1.17.8-1, 1.19.0-1, 1.20.0-1     experimental/deb/amd64   + 1.21.0~rc.1-1
# with the four real package names and exact-version dependencies like NVIDIA's, an InRelease signed
# by a throwaway key (gpgkey, armored, as NVIDIA serves it; its fingerprint in ./fingerprint), and a
# second key (wrong-gpgkey) for the fault tests. Test packages: nvidia-container-runtime logs its call
# and execs runc; nvidia-ctk does `config --set … --in-place`, `cdi generate`, `cdi list` and `--version`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../../.tmp/e2e-repo}
[ -f "$out/fingerprint" ] && { echo "repo ready: $out"; exit 0; }
rm -rf "$out"; mkdir -p "$out"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

build_deb() { # name version depends files-dir
    name=$1; version=$2; depends=$3; root=$4
    mkdir -p "$root/DEBIAN"
    {
        echo "Package: $name"; echo "Version: $version"; echo "Architecture: amd64"
        echo "Maintainer: e2e <e2e@localhost>"; echo "Description: test stand-in for NVIDIA's $name"
        [ -n "$depends" ] && echo "Depends: $depends"
    } > "$root/DEBIAN/control"
    dpkg-deb --root-owner-group --build "$root" "$work/pool/${name}_${version}_amd64.deb" >/dev/null
}

mkdir -p "$work/pool"
for v in 1.17.8-1 1.19.0-1 1.20.0-1 1.21.0~rc.1-1; do
    r="$work/lib-$v"; mkdir -p "$r/usr/lib/x86_64-linux-gnu"; echo "$v" > "$r/usr/lib/x86_64-linux-gnu/libnvidia-container.so.1"
    build_deb libnvidia-container1 "$v" "" "$r"
    r="$work/tools-$v"; mkdir -p "$r/usr/bin"; printf '#!/bin/sh\necho "nvidia-container-cli %s"\n' "$v" > "$r/usr/bin/nvidia-container-cli"; chmod 755 "$r/usr/bin/nvidia-container-cli"
    build_deb libnvidia-container-tools "$v" "libnvidia-container1 (= $v)" "$r"
    r="$work/base-$v"; mkdir -p "$r/usr/bin"
    cat > "$r/usr/bin/nvidia-container-runtime" <<'SHIM'
#!/bin/sh
# Test stand-in: records the call, then runs runc as the real runtime would after its edits.
echo "$(date +%s) nvidia-container-runtime $*" >> /var/log/nvidia-container-runtime-shim.log
exec runc "$@"
SHIM
    cat > "$r/usr/bin/nvidia-ctk" <<CTK
#!/bin/sh
# Test stand-in for the nvidia-ctk subcommands the plans call.
case "\$1" in
  --version) echo "NVIDIA Container Toolkit CLI version $v" ;;
  config)
    shift; file=/etc/nvidia-container-runtime/config.toml
    while [ \$# -gt 0 ]; do
      case "\$1" in
        --config-file) file=\$2; shift ;;
        --config-file=*) file=\${1#*=} ;;
        --set) key=\${2%%=*}; val=true; case "\$2" in *=*) val=\${2#*=} ;; esac; k=\${key##*.}
               if grep -q "^#\\?\$k = " "\$file"; then sed -i "s|^#\\?\$k = .*|\$k = \$val|" "\$file"; else echo "\$k = \$val" >> "\$file"; fi; shift ;;
      esac; shift
    done ;;
  cdi)
    case "\$2" in
      generate) out=/var/run/cdi/nvidia.yaml; for a in "\$@"; do case "\$a" in --output=*) out=\${a#*=} ;; esac; done
                mkdir -p "\$(dirname "\$out")"; printf 'cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n  - name: all\n    containerEdits: {}\n' > "\$out" ;;
      list) echo "nvidia.com/gpu=all" ;;
    esac ;;
esac
CTK
    chmod 755 "$r/usr/bin/nvidia-container-runtime" "$r/usr/bin/nvidia-ctk"
    mkdir -p "$r/DEBIAN"
    printf '#!/bin/sh\nset -e\nmkdir -p /etc/nvidia-container-runtime\n[ -e /etc/nvidia-container-runtime/config.toml ] || printf "[nvidia-container-cli]\\n#no-cgroups = false\\nload-kmods = true\\n" > /etc/nvidia-container-runtime/config.toml\n' > "$r/DEBIAN/postinst"
    chmod 755 "$r/DEBIAN/postinst"
    build_deb nvidia-container-toolkit-base "$v" "" "$r"
    r="$work/ctk-$v"; mkdir -p "$r/usr/bin"; printf '#!/bin/sh\nexit 0\n' > "$r/usr/bin/nvidia-container-runtime-hook"; chmod 755 "$r/usr/bin/nvidia-container-runtime-hook"
    build_deb nvidia-container-toolkit "$v" "nvidia-container-toolkit-base (= $v), libnvidia-container-tools (= $v), libnvidia-container-tools (<< 2.0.0)" "$r"
done

export GNUPGHOME="$work/gnupg"; mkdir -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key "e2e repo <e2e@localhost>" rsa2048 sign never 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key "wrong key <wrong@localhost>" rsa2048 sign never 2>/dev/null
fpr=$(gpg --batch --with-colons --list-keys e2e@localhost | awk -F: '$1 == "fpr" { print $10; exit }')
gpg --batch --armor --export e2e@localhost > "$out/gpgkey"
gpg --batch --armor --export wrong@localhost > "$out/wrong-gpgkey"
for channel in stable experimental; do
    dir="$out/$channel/deb/amd64"; mkdir -p "$dir"
    for deb in "$work"/pool/*.deb; do
        case "$channel:$deb" in stable:*rc.1*) continue ;; esac
        cp "$deb" "$dir/"
    done
    (cd "$dir" && apt-ftparchive packages . > Packages && gzip -kf Packages && apt-ftparchive release . > Release)
    gpg --batch --yes --local-user e2e@localhost --clearsign -o "$dir/InRelease" "$dir/Release"
    gpg --batch --yes --local-user e2e@localhost -abs -o "$dir/Release.gpg" "$dir/Release"
done
# A repository signed by the wrong key, for the fault test.
cp -r "$out/stable" "$out/wrongsig-stable"
gpg --batch --yes --local-user wrong@localhost --clearsign -o "$out/wrongsig-stable/deb/amd64/InRelease" "$out/wrongsig-stable/deb/amd64/Release"
rm -f "$out/wrongsig-stable/deb/amd64/Release.gpg"
mkdir -p "$out/wrongsig"; mv "$out/wrongsig-stable" "$out/wrongsig/stable"; cp -r "$out/experimental" "$out/wrongsig/experimental"; cp "$out/gpgkey" "$out/wrongsig/gpgkey"

# The same packages as RPMs (AutoReqProv off: Debian's rpm database is empty), in an rpm-md repo whose
# repomd.xml is signed (repo_gpgcheck=1, as NVIDIA's .repo file asks).
rpmtop="$work/rpmbuild"; mkdir -p "$rpmtop/SPECS" "$rpmtop/SOURCES" "$rpmtop/BUILD" "$rpmtop/RPMS"
for v in 1.17.8-1 1.19.0-1 1.20.0-1 1.21.0~rc.1-1; do
    ver=${v%-*}; rel=${v##*-}
    for spec in "libnvidia-container1:" "libnvidia-container-tools:libnvidia-container1 = $v" "nvidia-container-toolkit-base:" "nvidia-container-toolkit:nvidia-container-toolkit-base = $v, libnvidia-container-tools = $v"; do
        name=${spec%%:*}; requires=${spec#*:}
        cat > "$rpmtop/SPECS/$name-$v.spec" <<SPEC
Name: $name
Version: $ver
Release: $rel
Summary: test stand-in for NVIDIA's $name
License: Apache-2.0
BuildArch: x86_64
AutoReqProv: no
$( [ -n "$requires" ] && echo "Requires: $requires" )
%description
Test stand-in for NVIDIA's $name.
%install
mkdir -p %{buildroot}/usr/share/nvidia-e2e
echo "$name $v" > %{buildroot}/usr/share/nvidia-e2e/$name
$( [ "$name" = nvidia-container-toolkit-base ] && printf 'mkdir -p %%{buildroot}/usr/bin\ncp %s %%{buildroot}/usr/bin/nvidia-ctk\n' "$work/base-$v/usr/bin/nvidia-ctk" )
%files
/usr/share/nvidia-e2e/$name
$( [ "$name" = nvidia-container-toolkit-base ] && echo "/usr/bin/nvidia-ctk" )
SPEC
        rpmbuild --quiet --define "_topdir $rpmtop" -bb "$rpmtop/SPECS/$name-$v.spec" >/dev/null 2>&1 || { echo "rpmbuild failed for $name $v" >&2; exit 1; }
    done
done
for channel in stable experimental; do
    dir="$out/$channel/rpm/x86_64"; mkdir -p "$dir"
    for rpmfile in "$rpmtop"/RPMS/x86_64/*.rpm; do
        case "$channel:$rpmfile" in stable:*rc.1*) continue ;; esac
        cp "$rpmfile" "$dir/"
    done
    createrepo_c --quiet "$dir"
    gpg --batch --yes --local-user e2e@localhost --armor --detach-sign -o "$dir/repodata/repomd.xml.asc" "$dir/repodata/repomd.xml"
done
set -- "$out"/stable/rpm/x86_64/*.rpm; [ -e "$1" ] || { echo "no rpm was built" >&2; exit 1; }
echo "rpm repo ready"
echo "$fpr" > "$out/fingerprint"
echo "repo ready: $out ($fpr)"
