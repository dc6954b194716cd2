#!/bin/sh
# Everything the e2e suite needs on a fresh machine: Debian packages, the Docker engine, the node
# images, NVIDIA's toolkit binaries (Go module proxy) and the NVIDIA-like repositories built from them. Idempotent.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# Two suites may set the fleet up at once (.ci/run's two workers; a suite beside a helper's): the images and the Docker
# engine are this machine's, so one lock for the machine; the second waits and then finds everything ready.
if command -v flock >/dev/null 2>&1 && [ -z "${FLEET_SETUP_LOCKED:-}" ]; then
    FLEET_SETUP_LOCKED=1 exec flock /tmp/pulumi-nvidia-gpu-fleet-setup.lock sh "$0" "$@"
fi
need=""
for tool in dockerd:docker.io debootstrap:debootstrap apt-ftparchive:apt-utils busybox:busybox-static gpg:gnupg python3:python3 rpmbuild:rpm createrepo_c:createrepo-c; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need="$need ${tool#*:}"
done
if [ -n "$need" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
mkdir -p /var/log/e2e
sh "$here/start-docker.sh"
sh "$here/build-images.sh"
sh "$here/../../../tools/setup-toolkit-versions.sh"
sh "$here/build-repo.sh"
