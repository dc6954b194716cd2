/**
 * NVIDIA's install guide for the Container Toolkit on Docker, as one script: the baseline the apply and engine
 * benchmarks measure against (the list file is written directly: the loopback repo serves no .list).
 */
export function manualInstallScript(repoPort: number, version: string): string {
    const repo = `http://127.0.0.1:${repoPort}`;
    return `set -e
apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates curl gnupg2 >/dev/null
curl -fsSL ${repo}/gpgkey | gpg --batch --yes --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
echo "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] ${repo}/stable/deb/\\$(ARCH) /" > /etc/apt/sources.list.d/nvidia-container-toolkit.list
apt-get update -qq
apt-get install -y -qq nvidia-container-toolkit=${version} nvidia-container-toolkit-base=${version} libnvidia-container-tools=${version} libnvidia-container1=${version} >/dev/null
printf '{"bridge": "none", "iptables": false, "ip-masq": false, "runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}}' > /etc/docker/daemon.json
systemctl restart docker
until docker info >/dev/null 2>&1; do sleep 1; done
`;
}
