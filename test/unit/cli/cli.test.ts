import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../helpers/runCli";
import { NVIDIA_CTK_FIXTURES } from "../../helpers/paths";

describe("gpu-node CLI", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("render docker prints the new daemon.json", async () => {
        const input = path.join(NVIDIA_CTK_FIXTURES, "docker-b-journald-default/input.daemon.json");
        const r = await runCli("render", "docker", "--config", input, "--set-as-default");
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout)["default-runtime"], "nvidia");
        assert.equal(r.stderr, "");
    });

    it("render containerd --out writes config.toml and 99-nvidia.toml; --drop-in-dir names the import glob", async () => {
        const input = path.join(NVIDIA_CTK_FIXTURES, "containerd-b-kubeadm-v2-default/input.config.toml");
        const r = await runCli("render", "containerd", "--config", input, "--out", dir, "--drop-in-dir", "/etc/containerd/gpu.d");
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(fs.readdirSync(dir).sort(), ["99-nvidia.toml", "config.toml"]);
        assert.match(fs.readFileSync(path.join(dir, "config.toml"), "utf8"), /imports = \["\/etc\/containerd\/gpu\.d\/\*\.toml"\]/);
    });

    it("render crio --out writes only the drop-in", async () => {
        const r = await runCli("render", "crio", "--out", dir);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(fs.readdirSync(dir), ["99-nvidia.toml"]);
    });

    it("render toolkit-config --set is repeatable", async () => {
        const input = path.join(NVIDIA_CTK_FIXTURES, "toolkit-a-no-cgroups/input.config.toml");
        const r = await runCli(
            "render",
            "toolkit-config",
            "--config",
            input,
            "--set",
            "nvidia-container-cli.no-cgroups",
            "--set=nvidia-container-runtime.mode=cdi",
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^no-cgroups = true$/m);
        assert.match(r.stdout, /^mode = "cdi"$/m);
    });

    it("--diff prints a unified diff against the input", async () => {
        const input = path.join(NVIDIA_CTK_FIXTURES, "docker-c-features-cdi/input.daemon.json");
        const r = await runCli("render", "docker", "--config", input, "--cdi.enabled", "--diff");
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^--- a\/etc\/docker\/daemon\.json\n\+\+\+ b\/etc\/docker\/daemon\.json\n@@/);
        assert.match(r.stdout, /^\+ {8}"cdi": true$/m);
        assert.match(r.stdout, /^\+ {8}"buildkit": true,$/m);
    });

    it("fails with one line on stderr and nothing on stdout", async () => {
        const bad = path.join(dir, "daemon.json");
        fs.writeFileSync(bad, '{"a": 1,}');
        for (const argv of [
            ["render", "docker", "--config", bad],
            ["render", "docker", "--nope"],
            ["render", "podman"],
            ["render", "containerd"],
            ["script", "toolkit", "--pm", "apt", "--version", "1.0; reboot"],
        ]) {
            const r = await runCli(...argv);
            assert.notEqual(r.code, 0, argv.join(" "));
            assert.equal(r.stdout, "", argv.join(" "));
            assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        }
    });

    it("script toolkit prints the four pinned packages in the manager's syntax", async () => {
        const apt = await runCli("script", "toolkit", "--pm", "apt", "--version", "1.20.0-1");
        assert.match(
            apt.stdout,
            /nvidia-container-toolkit=1\.20\.0-1 nvidia-container-toolkit-base=1\.20\.0-1 libnvidia-container-tools=1\.20\.0-1 libnvidia-container1=1\.20\.0-1/,
        );
        assert.match(
            apt.stdout,
            /^#deb \[signed-by=\/usr\/share\/keyrings\/nvidia-container-toolkit-keyring\.gpg\] https:\/\/nvidia\.github\.io\/libnvidia-container\/experimental/m,
        );
        const dnf = await runCli("script", "toolkit", "--pm", "dnf", "--version", "1.20.0-1", "--experimental", "--repo-url", "http://127.0.0.1:8080/repo");
        assert.match(dnf.stdout, /nvidia-container-toolkit-1\.20\.0-1 nvidia-container-toolkit-base-1\.20\.0-1/);
        assert.match(dnf.stdout, /\[nvidia-container-toolkit-experimental\][^[]*enabled=1/);
        assert.match(dnf.stdout, /baseurl=http:\/\/127\.0\.0\.1:8080\/repo\/stable\/rpm\/\$basearch/);
        const zypper = await runCli("script", "toolkit", "--pm", "zypper", "--version", "1.20.0-1");
        assert.match(zypper.stdout, /zypper --non-interactive --gpg-auto-import-keys install -y --oldpackage nvidia-container-toolkit-1\.20\.0-1/);
    });

    it("script driver prints Ubuntu's server-open package pinned to the branch, and refuses bad input", async () => {
        const r = await runCli("script", "driver", "--distro", "ubuntu:24.04", "--branch", "580");
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /apt-get .* install -y -q nvidia-driver-580-server-open/);
        assert.match(r.stdout, /Unattended-Upgrade::Package-Blacklist/);
        const both = await runCli("script", "driver", "--distro", "ubuntu:24.04", "--branch", "580", "--version", "580.95.05");
        assert.equal(both.code, 64);
        assert.match(both.stderr, /option '--branch <branch>' cannot be used with option '--version <version>'/);
        const rhel = await runCli("script", "driver", "--distro", "rocky:9", "--version", "580.95.05", "--proprietary");
        assert.match(rhel.stdout, /dnf -y module enable nvidia-driver:580-dkms\nretry 3 dnf install -y nvidia-driver-580\.95\.05/);
        const rhel10 = await runCli("script", "driver", "--distro", "rhel:10", "--branch", "580");
        assert.match(rhel10.stdout, /dnf install -y nvidia-open\n/);
        const rocky = await runCli("script", "driver", "--distro", "rocky:9", "--branch", "580");
        assert.match(rocky.stdout, /dnf -y module install nvidia-driver:580-open/);
        assert.match(rhel.stdout, /versionlock add/);
    });
});
