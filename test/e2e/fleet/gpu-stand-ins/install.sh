#!/bin/sh
# Installs the e2e fleet's GPU stand-ins on a node (run inside it, from the folder they were copied to): the
# nvidia-ctk and nvidia-container-runtime wrappers in /usr/local/bin, and the nvidia-cdi-refresh.service drop-in.
# Each forwards to NVIDIA's real packaged binary or unit except for what needs a GPU (see each file's header).
# On the rpm nodes (Debian with rpm, dnf and zypper, whose rpm database is empty) it also registers Debian's own
# /bin/sh there, as a RHEL or SUSE host's bash package provides it: NVIDIA's rpm scriptlets require it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
install -m 0755 "$here/nvidia-ctk" "$here/nvidia-container-runtime" /usr/local/bin/
mkdir -p /etc/systemd/system/nvidia-cdi-refresh.service.d
install -m 0644 "$here/nvidia-cdi-refresh.service.conf" /etc/systemd/system/nvidia-cdi-refresh.service.d/e2e-gpu-stand-in.conf
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
if command -v rpmbuild >/dev/null 2>&1; then
    top=$(mktemp -d)
    mkdir -p "$top/SPECS"
    cat >"$top/SPECS/provides.spec" <<'SPEC'
Name: e2e-debian-shell
Version: 1
Release: 1
Summary: Debian's /bin/sh, registered in the rpm database of an e2e rpm node
License: MIT
BuildArch: noarch
Provides: /bin/sh
%description
Debian's /bin/sh, registered (rpm --justdb) in the rpm database of an e2e rpm node.
%files
SPEC
    rpmbuild --quiet --define "_topdir $top" -bb "$top/SPECS/provides.spec" >/dev/null 2>&1
    for db in "" /var/lib/rpm; do
        rpm ${db:+--dbpath "$db"} -q e2e-debian-shell >/dev/null 2>&1 ||
            rpm ${db:+--dbpath "$db"} -i --justdb --nodeps "$top"/RPMS/noarch/e2e-debian-shell-1-1.noarch.rpm >/dev/null 2>&1
    done
    rm -rf "$top"
fi
