import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FleetNode, nodeExec, startNode } from "../e2e/fleet";

/**
 * Debian driver nodes: fleet nodes (systemd containers) of Debian bookworm or trixie with Debian's full apt sources
 * (test/driver/fleet/build-images.sh), plus two things for the driver:
 *
 * - A `uname` STAND-IN (/usr/local/bin/uname, ahead of /usr/bin in root's PATH). The nodes run this machine's kernel
 *   (6.18.44-fc), for which Debian has no headers, so DKMS could build nothing. The stand-in reports, for `-r`, the
 *   release written in /etc/e2e-kernel-release: a Debian kernel whose headers Debian carries. It stands in for a Debian
 *   host booted into Debian's own kernel. With the file empty it reports the real kernel (what these nodes run).
 * - Every `pulumi up` there is niced (ssh.service Nice=10, inherited by each session): DKMS compiles for minutes.
 * - Debian's open kernel modules do not build on any kernel Debian serves today: every bookworm kernel in the archive
 *   (6.1.0-53 to -57) and every trixie one (6.12.107 to .118) declares pci_resize_resource with a fourth argument
 *   (exclude_bars), and nvidia-open-kernel-dkms calls it with three ("too few arguments to function
 *   'pci_resize_resource'"): bookworm's 535.261.03, trixie's 550.163.01-2 and trixie-backports' 550.163.01-4~bpo13+1.
 *   The proprietary nvidia-kernel-dkms of the same versions builds on both releases, so the install cases use it, and a
 *   case of its own checks the open modules' failure (debianDriver.driver.ts).
 * - Debian's own compiler cache switch for kernel modules: DEBIAN_KERNEL_USE_CCACHE in every SSH session (sshd SetEnv),
 *   which Debian's headers (.kernelvariables) turn into `CC = ccache gcc-N`, with the cache in a folder outside the clone
 *   keyed by release and driver version (dkmsCcache). DKMS still runs NVIDIA's whole build; a warm run takes gcc's
 *   output from the cache. A cold DKMS build is ~20 min on 2 shared cores, too slow for every CI run.
 */
export const UNAME_STAND_IN = `#!/bin/sh
# TEST STAND-IN for uname(1) (test/driver/debianNodes.ts): reports /etc/e2e-kernel-release as the kernel release, a Debian
# kernel whose headers Debian carries, in place of the container host's kernel, for which Debian has none.
fake=$(cat /etc/e2e-kernel-release 2>/dev/null || true)
[ -n "$fake" ] || exec /usr/bin/uname "$@"
/usr/bin/uname "$@" | sed "s/$(/usr/bin/uname -r)/$fake/"
`;

export type Release = "bookworm" | "trixie";

/** Heavy downloads and builds are cached here, outside the clone. */
const cacheRoot = () => process.env.PULUMI_NVIDIA_GPU_CACHE ?? path.join(os.homedir(), ".cache/pulumi-nvidia-gpu");

/** Where the node keeps ccache's files: the host folder `ccache` (outside the clone), mounted. */
const NODE_CCACHE = "/var/cache/e2e-dkms-ccache";

export function startDebianNode(name: string, release: Release, port: number, ccache: string): FleetNode {
    fs.mkdirSync(ccache, { recursive: true });
    const node = startNode(
        name,
        `gpu-e2e-driver-${release}`,
        port,
        [
            `printf '%s' '${UNAME_STAND_IN.replace(/'/g, "'\\''")}' > /usr/local/bin/uname`,
            "chmod 755 /usr/local/bin/uname",
            ": > /etc/e2e-kernel-release",
            "mkdir -p /etc/systemd/system/ssh.service.d",
            "printf '[Service]\\nNice=10\\n' > /etc/systemd/system/ssh.service.d/e2e-nice.conf",
            `printf 'SetEnv DEBIAN_KERNEL_USE_CCACHE=1 CCACHE_DIR=${NODE_CCACHE}\\n' > /etc/ssh/sshd_config.d/e2e-ccache.conf`,
            `CCACHE_DIR=${NODE_CCACHE} ccache --max-size 4G --zero-stats >/dev/null`,
            "systemctl daemon-reload",
            "systemctl restart ssh",
        ].join(" && "),
        { volumes: [`${ccache}:${NODE_CCACHE}`] },
    );
    return node;
}

/** The compiler cache's folder for DKMS builds of one driver version on one release, outside the clone. */
export function dkmsCcache(release: Release, version: string): string {
    return path.join(cacheRoot(), `dkms-ccache-${release}-${version}`);
}

/**
 * How long DKMS's build took (make.log's first `date` line to the log's last write) and ccache's hits this run, for the
 * suite's output: `dkms build: 1234 s (ccache: 1200 hits, 30 misses)`.
 */
export function dkmsBuildReport(node: FleetNode, kernel: string): string {
    const timing = nodeExec(
        node.name,
        `for log in /var/lib/dkms/nvidia*/*/${kernel}/*/log/make.log; do start=$(date -d "$(sed -n 2p "$log")" +%s); echo "$(($(stat -c %Y "$log") - start))"; done`,
    ).trim();
    const stats = nodeExec(node.name, `CCACHE_DIR=${NODE_CCACHE} ccache --print-stats 2>/dev/null || true`);
    const stat = (key: string) => Number(new RegExp(`^${key}\\t(\\d+)`, "m").exec(stats)?.[1] ?? 0);
    const hits = stat("direct_cache_hit") + stat("preprocessed_cache_hit");
    const misses = stat("cache_miss");
    return `dkms build: ${timing} s (ccache: ${hits} hits, ${misses} misses)`;
}

/** Debian's current kernel ABI for the release (what linux-headers-amd64 depends on now), e.g. `6.1.0-57-amd64`. */
export function debianKernel(node: FleetNode): string {
    nodeExec(node.name, "apt-get update -qq");
    const abi = nodeExec(node.name, "apt-cache depends linux-headers-amd64 | sed -n 's/^ *Depends: linux-headers-//p' | head -n 1").trim();
    if (!/^\d+\.\d+/.test(abi)) throw new Error(`no Debian kernel ABI found on ${node.name}: ${JSON.stringify(abi)}`);
    return abi;
}

/** Points the uname stand-in at `release`; an empty string gives the real kernel back. */
export function setKernelRelease(node: FleetNode, release: string): void {
    nodeExec(node.name, `printf '%s' '${release}' > /etc/e2e-kernel-release`);
}

/**
 * apt's downloads, cached outside the clone by release and driver version (hundreds of MB: the driver, X server
 * libraries, dkms, gcc, the headers). Copied into the node's /var/cache/apt/archives before `up`, where apt finds
 * them (it checks each file's hash and downloads again on a mismatch), and copied back after.
 */
export function debCache(release: Release, version: string): string {
    return path.join(cacheRoot(), `debian-driver-debs-${release}-${version}`);
}

export function restoreDebs(node: FleetNode, cache: string): void {
    if (!fs.existsSync(cache)) return;
    execFileSync("docker", ["cp", `${cache}/.`, `${node.name}:/var/cache/apt/archives/`]);
}

export function saveDebs(node: FleetNode, cache: string): void {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "driver-debs-"));
    try {
        execFileSync("docker", ["cp", `${node.name}:/var/cache/apt/archives/.`, work]);
        fs.mkdirSync(cache, { recursive: true });
        // Debian's packages only: the toolkit's come from the fleet's own repository, rebuilt when it changes.
        for (const f of fs.readdirSync(work)) {
            if (f.endsWith(".deb") && !/^(lib)?nvidia-container/.test(f) && !fs.existsSync(path.join(cache, f))) {
                fs.copyFileSync(path.join(work, f), path.join(cache, f));
            }
        }
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}
