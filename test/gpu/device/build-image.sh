#!/bin/sh
# Builds the tiny image `gpu-check:local` on the GPU machine: cudacheck compiled there with nvcc (CUDA's
# runtime linked statically; libcuda comes from the driver, injected by the NVIDIA runtime or the CDI spec),
# plus the C/C++ libraries it links and an ld.so.conf, as a CUDA base image has. No registry is reachable there.
# With a folder argument (the k8s phase, which has no Docker) the image's root is left there instead.
set -eu
keep=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
nvcc -O2 -cudart static -o "$work/cudacheck" "$here/cudacheck.cu"
root="$work/root"; mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/etc/ld.so.conf.d" "$root/tmp"
cp "$work/cudacheck" "$root/usr/local/bin/cudacheck"
printf 'include /etc/ld.so.conf.d/*.conf\n' > "$root/etc/ld.so.conf"
# The libraries the binary links and the driver's libcuda links (libdl, libpthread, librt: a CUDA base image has
# the whole C library), with the loader; libcuda itself is the driver's, injected at run time.
libcuda=$(ldconfig -p | awk '/libcuda.so.1 / {print $NF; exit}')
{ ldd "$work/cudacheck"; ldd "$libcuda"; } | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' | grep -v -e libcuda -e libnvidia | sort -u | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
done
for d in lib lib64 bin; do [ -e "$root/$d" ] || [ ! -L "/$d" ] || ln -s "$(readlink "/$d")" "$root/$d"; done
if [ -n "$keep" ]; then rm -rf "$keep"; cp -a "$root" "$keep"; echo "built the gpu-check root in $keep"; exit 0; fi
tar -C "$root" -c . | docker import -c 'ENTRYPOINT ["/usr/local/bin/cudacheck"]' - gpu-check:local >/dev/null
echo "built gpu-check:local ($(du -sh "$root" | cut -f1)): $(ldd "$work/cudacheck" | awk '{print $1}' | tr '\n' ' ')"
