import { strict as assert } from "node:assert";
import * as TOML from "@iarna/toml";
import { renderContainerdConfig } from "../../../sdk/runtime/containerdConfig";

/**
 * The drop-in's config version across containerd 1.x–2.4. containerd 2.3 runs config version 4, and
 * `containerd config dump` shows the migrated effective config at that version, whatever the root file
 * says. containerd merges a drop-in of a higher version than its root without migrating the root
 * (containerd/containerd#12891 now refuses it: "drop-in config version 4 higher than root config version 2").
 * Loading these files in the real containerd 2.2/2.3/2.4 is test/diff/containerdVersions.diff.ts.
 */

/** A root file the way AKS ships it: version 2, with settings a v3/v4 drop-in would hide. */
const AKS_LIKE_V2 = `version = 2
oom_score = 0
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "mcr.microsoft.com/oss/kubernetes/pause:3.6"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/bin/runc"
        SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
`;

/** What containerd 2.3's `config dump` prints for that root (abbreviated): version 4, the CRI runtime plugin of 2.x. */
const CONTAINERD_23_DUMP = `version = 4
root = '/var/lib/containerd'
state = '/run/containerd'
[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = 'mcr.microsoft.com/oss/kubernetes/pause:3.6'
  [plugins.'io.containerd.cri.v1.runtime']
    enable_cdi = true
    cdi_spec_dirs = ['/etc/cdi', '/var/run/cdi']
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes]
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
          runtime_type = 'io.containerd.runc.v2'
          runtime_path = ''
          sandboxer = 'podsandbox'
          [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
            BinaryName = '/usr/bin/runc'
            SystemdCgroup = true
`;

const dropInOf = (root: string | undefined, dump: string | undefined, options = {}) => renderContainerdConfig(root, { effectiveConfig: dump, ...options });

describe("containerd drop-in version: always the root file's (NVIDIA/aicr#1688)", () => {
    it("NVIDIA/aicr#1688: a version-2 root on containerd 2.3 (dump at version 4) gets a version-2 drop-in, not 4", () => {
        const result = dropInOf(AKS_LIKE_V2, CONTAINERD_23_DUMP);
        const dropIn = TOML.parse(result.dropIn.text) as any;
        assert.equal(dropIn.version, 2, "drop-in version equals the root's");
        assert.equal(result.version, 2);
        assert.equal(result.criPlugin, "io.containerd.grpc.v1.cri", "the CRI plugin of a version-2 file");
        assert.deepEqual(Object.keys(dropIn.plugins), ["io.containerd.grpc.v1.cri"]);
        const nvidia = dropIn.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.nvidia;
        assert.equal(nvidia.runtime_type, "io.containerd.runc.v2");
        assert.equal(nvidia.options.BinaryName, "/usr/bin/nvidia-container-runtime");
        assert.equal(nvidia.options.SystemdCgroup, true, "runc's options still come from the effective config");
        assert.equal(result.topLevel.text, AKS_LIKE_V2.replace("version = 2\n", 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n'));
    });

    it("NVIDIA/aicr#1688: a version-2 root on containerd 2.0–2.2 (dump at version 3) gets a version-2 drop-in, which keeps the root's v2 settings migrated", () => {
        const dump = CONTAINERD_23_DUMP.replace("version = 4", "version = 3");
        const result = dropInOf(AKS_LIKE_V2, dump, { setAsDefault: true, enableCdi: true });
        const dropIn = TOML.parse(result.dropIn.text) as any;
        assert.equal(dropIn.version, 2);
        const cri = dropIn.plugins["io.containerd.grpc.v1.cri"];
        assert.equal(cri.enable_cdi, true);
        assert.equal(cri.containerd.default_runtime_name, "nvidia");
        assert.equal(cri.sandbox_image, "mcr.microsoft.com/oss/kubernetes/pause:3.6", "the v2 section is the root file's");
        assert.deepEqual(Object.keys(cri.containerd.runtimes).sort(), ["nvidia", "runc"]);
    });

    it("a version-3 root on containerd 2.3 gets a version-3 drop-in with the 2.x CRI runtime plugin", () => {
        const root = "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd]\ndefault_runtime_name = 'runc'\n";
        const result = dropInOf(root, CONTAINERD_23_DUMP);
        const dropIn = TOML.parse(result.dropIn.text) as any;
        assert.equal(dropIn.version, 3);
        const runtimes = dropIn.plugins["io.containerd.cri.v1.runtime"].containerd.runtimes;
        assert.equal(runtimes.nvidia.options.SystemdCgroup, true);
        assert.equal(runtimes.nvidia.sandboxer, "podsandbox", "the whole effective runc entry is inherited");
    });

    it("a version-4 root (containerd 2.3's own `config default`) is supported: version-4 drop-in, CRI runtime plugin", () => {
        const result = dropInOf("version = 4\n", CONTAINERD_23_DUMP);
        const dropIn = TOML.parse(result.dropIn.text) as any;
        assert.equal(dropIn.version, 4);
        assert.equal(result.criPlugin, "io.containerd.cri.v1.runtime");
        assert.ok(dropIn.plugins["io.containerd.cri.v1.runtime"].containerd.runtimes.nvidia);
        assert.equal(renderContainerdConfig("version = 4\n").version, 4, "also without a dump");
    });

    it("a missing root takes the running containerd's version for both files, so they agree (§11 #7)", () => {
        const result = dropInOf(undefined, CONTAINERD_23_DUMP);
        assert.equal((TOML.parse(result.dropIn.text) as any).version, 4);
        assert.equal(result.topLevel.text, 'version = 4\nimports = ["/etc/containerd/conf.d/*.toml"]\n');
        const noDump = renderContainerdConfig(undefined);
        assert.equal((TOML.parse(noDump.dropIn.text) as any).version, 2, "without a dump, nvidia-ctk's 2");
    });

    it("NVIDIA/nvidia-container-toolkit#1956: every drop-in's nvidia runtime has runtime_type, also when the copied runtime has none", () => {
        const noType = (plugin: string, version: number) =>
            `version = ${version}\n[plugins."${plugin}".containerd]\ndefault_runtime_name = "runc"\n[plugins."${plugin}".containerd.runtimes.runc.options]\nSystemdCgroup = true\n`;
        for (const [root, dump] of [
            [noType("io.containerd.cri.v1.runtime", 3), undefined],
            [noType("io.containerd.grpc.v1.cri", 2), undefined],
            [noType("io.containerd.cri.v1.runtime", 3), noType("io.containerd.cri.v1.runtime", 4)],
            [noType("io.containerd.grpc.v1.cri", 2), noType("io.containerd.cri.v1.runtime", 4)],
        ] as const) {
            const result = dropInOf(root, dump);
            const dropIn = TOML.parse(result.dropIn.text) as any;
            const nvidia = dropIn.plugins[result.criPlugin].containerd.runtimes.nvidia;
            assert.equal(nvidia.runtime_type, "io.containerd.runc.v2", `runtime_type with root ${root.split("\n")[0]}, dump ${dump?.split("\n")[0]}`);
            assert.equal(nvidia.options.SystemdCgroup, true);
        }
    });

    it("refuses a dump or root at a version this library does not know", () => {
        assert.throws(() => renderContainerdConfig("version = 5\n"), /unsupported config version 5/);
        assert.throws(() => dropInOf("version = 2\n", "version = 5\n"), /containerd config dump: version: unsupported config version 5/);
    });
});

describe("containerd 2.4: CDI is always on", () => {
    const dump24 = (cdiKey: boolean) => `version = 4
[plugins.'io.containerd.cri.v1.runtime']
${cdiKey ? "enable_cdi = false\n" : ""}cdi_spec_dirs = ['/etc/cdi', '/var/run/cdi']
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
runtime_type = 'io.containerd.runc.v2'
`;

    it("leaves enable_cdi out when the effective config of a 2.x containerd has no such key (2.4 would log `Ignoring unknown key`)", () => {
        const result = renderContainerdConfig("version = 4\n", { effectiveConfig: dump24(false), enableCdi: true });
        const cri = (TOML.parse(result.dropIn.text) as any).plugins["io.containerd.cri.v1.runtime"];
        assert.equal(cri.enable_cdi, undefined);
        assert.ok(
            result.dropIn.summary.some((s) => /CDI is always on/.test(s)),
            result.dropIn.summary.join("; "),
        );
    });

    it("still writes enable_cdi where the containerd has the key (2.0–2.3), or without a dump", () => {
        const withKey = renderContainerdConfig("version = 4\n", { effectiveConfig: dump24(true), enableCdi: true });
        assert.equal((TOML.parse(withKey.dropIn.text) as any).plugins["io.containerd.cri.v1.runtime"].enable_cdi, true);
        const noDump = renderContainerdConfig("version = 3\n", { enableCdi: true });
        assert.equal((TOML.parse(noDump.dropIn.text) as any).plugins["io.containerd.cri.v1.runtime"].enable_cdi, true);
    });
});
