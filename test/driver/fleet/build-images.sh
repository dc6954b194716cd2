#!/bin/sh
# Node images for the Debian driver suite (test/driver), built once per machine (each is skipped when it exists):
#   gpu-e2e-driver-bookworm  gpu-e2e-base with Debian's full apt sources: bookworm, -updates, -security; main contrib
#   gpu-e2e-driver-trixie    gpu-e2e-trixie likewise    non-free non-free-firmware (the driver is non-free, the open
#                            module contrib), as a Debian GPU host has them; plus Debian's ccache, which the suite's
#                            nodes switch on for DKMS (debianNodes.ts) so that CI's warm runs reuse the compiler's output
#   gpu-e2e-rpm-driver       gpu-e2e-rpm with Debian's dnf-plugins-core: dnf's versionlock, which RHEL ships as
#                            python3-dnf-plugin-versionlock (the dnf driver suite's node); Debian enables its `local`
#                            plugin, which RHEL does not ship: off
# Needs gpu-e2e-base and gpu-e2e-trixie (test/e2e/fleet/build-images.sh) and Docker running.
set -eu
# The driver images are this machine's: two suites building them at once wait for each other.
if command -v flock >/dev/null 2>&1 && [ -z "${DRIVER_IMAGES_LOCKED:-}" ]; then
    DRIVER_IMAGES_LOCKED=1 exec flock /tmp/pulumi-nvidia-gpu-driver-images.lock sh "$0" "$@"
fi
mkdir -p /var/log/e2e
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
security=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -m 1 security || true)
[ -n "$security" ] || security=http://deb.debian.org/debian-security
# sources RELEASE: Debian's apt sources for RELEASE with every component.
sources() {
    all="main contrib non-free non-free-firmware"
    printf 'deb %s %s %s\\ndeb %s %s-updates %s\\ndeb %s %s-security %s\\n' "$mirror" "$1" "$all" "$mirror" "$1" "$all" "$security" "$1" "$all"
}
for release in bookworm trixie; do
    image=gpu-e2e-driver-$release
    base=gpu-e2e-base
    [ "$release" = trixie ] && base=gpu-e2e-trixie
    # An image from before ccache was added is built again.
    docker image inspect "$image" >/dev/null 2>&1 && docker run --rm --network none --entrypoint test "$image" -x /usr/bin/ccache && continue
    docker rm -f gpu-e2e-driver-build >/dev/null 2>&1 || true
    docker run --name gpu-e2e-driver-build --network host "$base" sh -c "printf '$(sources "$release")' > /etc/apt/sources.list \
        && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ccache >/dev/null && apt-get clean" \
        >"/var/log/e2e/build-$image.log" 2>&1 || { tail -n 20 "/var/log/e2e/build-$image.log" >&2; exit 1; }
    docker commit gpu-e2e-driver-build "$image" >/dev/null
    docker rm -f gpu-e2e-driver-build >/dev/null
done
if ! docker image inspect gpu-e2e-rpm-driver >/dev/null 2>&1; then
    docker rm -f gpu-e2e-driver-build >/dev/null 2>&1 || true
    docker run --name gpu-e2e-driver-build --network host gpu-e2e-rpm sh -c \
        'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dnf-plugins-core >/dev/null && apt-get clean \
        && sed -i "0,/^enabled = true/s//enabled = false/" /etc/dnf/plugins/local.conf' \
        >/var/log/e2e/build-gpu-e2e-rpm-driver.log 2>&1 || { tail -n 20 /var/log/e2e/build-gpu-e2e-rpm-driver.log >&2; exit 1; }
    docker commit gpu-e2e-driver-build gpu-e2e-rpm-driver >/dev/null
    docker rm -f gpu-e2e-driver-build >/dev/null
fi
echo "images ready: gpu-e2e-driver-bookworm gpu-e2e-driver-trixie gpu-e2e-rpm-driver"
