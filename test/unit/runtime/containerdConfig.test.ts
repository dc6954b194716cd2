import { strict as assert } from "node:assert";
import * as TOML from "@iarna/toml";
import { renderContainerdConfig } from "../../../sdk/runtime/containerdConfig";

/** nvidia-ctk-behaviour §3.6 (b): a containerd 1.7-style v2 config with comments. */
const KIND_LIKE = `# containerd 1.7 style config (kind-like)
version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.9"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      snapshotter = "overlayfs"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"
          base_runtime_spec = "/etc/containerd/cri-base.json"
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            SystemdCgroup = true
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
`;

describe("renderContainerdConfig", () => {
    it("writes the drop-in byte for byte as nvidia-ctk does (§3.6 b)", () => {
        const { dropIn, inheritedFrom } = renderContainerdConfig(KIND_LIKE);
        assert.equal(inheritedFrom, "runc");
        assert.equal(
            dropIn.text,
            `version = 2

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.9"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      snapshotter = "overlayfs"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
          base_runtime_spec = "/etc/containerd/cri-base.json"
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
            BinaryName = "/usr/bin/nvidia-container-runtime"
            SystemdCgroup = true

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          base_runtime_spec = "/etc/containerd/cri-base.json"
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            SystemdCgroup = true

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
`,
        );
    });

    it("edits config.toml by inserting one imports line and keeps every other byte, comments included", () => {
        const { topLevel } = renderContainerdConfig(KIND_LIKE);
        const lines = KIND_LIKE.split("\n");
        lines.splice(2, 0, 'imports = ["/etc/containerd/conf.d/*.toml"]');
        assert.equal(topLevel.text, lines.join("\n"));
        assert.deepEqual(topLevel.summary, ["imports: + /etc/containerd/conf.d/*.toml"]);
    });

    it("is idempotent: a second render changes nothing and does not duplicate the import", () => {
        const first = renderContainerdConfig(KIND_LIKE, { setAsDefault: true, enableCdi: true });
        const second = renderContainerdConfig(first.topLevel.text, { setAsDefault: true, enableCdi: true });
        assert.equal(second.topLevel.changed, false);
        assert.equal(second.topLevel.text, first.topLevel.text);
        assert.equal(second.dropIn.text, first.dropIn.text);
    });

    const importCases: Array<[string, string, string]> = [
        ["an empty array", "version = 2\nimports = []\n", 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n'],
        ["a string", 'version = 2\nimports = "/etc/x.toml" # mine\n', 'version = 2\nimports = ["/etc/x.toml", "/etc/containerd/conf.d/*.toml"] # mine\n'],
        ["a literal-string array", "version = 3\nimports = ['/a.toml']\n", "version = 3\nimports = ['/a.toml', \"/etc/containerd/conf.d/*.toml\"]\n"],
        [
            "a multi-line array with a trailing comma and a comment",
            'version = 2\nimports = [\n  "/a.toml", # first\n  "/b.toml",\n]\n',
            'version = 2\nimports = [\n  "/a.toml", # first\n  "/b.toml", "/etc/containerd/conf.d/*.toml"\n]\n',
        ],
        [
            "a comment-only file: version and import go after the comments",
            "# hand-written\n\n",
            '# hand-written\n\nversion = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n',
        ],
        ["a CRLF file", 'version = 2\r\nroot = "/r"\r\n', 'version = 2\r\nimports = ["/etc/containerd/conf.d/*.toml"]\r\nroot = "/r"\r\n'],
    ];
    for (const [what, input, expected] of importCases) {
        it(`appends the import to ${what}`, () => {
            const result = renderContainerdConfig(input);
            assert.equal(result.topLevel.text, expected);
        });
    }

    it("creates a two-line config.toml when none exists", () => {
        const { topLevel, version } = renderContainerdConfig(undefined);
        assert.equal(version, 2);
        assert.equal(topLevel.text, 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n');
    });

    it("names the custom drop-in folder in imports", () => {
        const { topLevel, dropIn } = renderContainerdConfig(undefined, { dropInPath: "/etc/k8s/containerd.d/50-gpu.toml" });
        assert.equal(dropIn.path, "/etc/k8s/containerd.d/50-gpu.toml");
        assert.match(topLevel.text, /imports = \["\/etc\/k8s\/containerd\.d\/\*\.toml"\]/);
    });

    it("refuses a config without a version key instead of writing a drop-in nothing loads (NVIDIA/nvidia-container-toolkit#1430)", () => {
        assert.throws(() => renderContainerdConfig('root = "/var/lib/containerd"\n'), /version: the file has settings but no `version` key.*add `version = 2`/);
    });

    it("refuses Docker's containerd.io default, where CRI is disabled (#1430)", () => {
        const dockerDefault = '#   Copyright 2018-2022 Docker Inc.\n\ndisabled_plugins = ["cri"]\n';
        assert.throws(() => renderContainerdConfig(dockerDefault), /version|disabled_plugins/);
        assert.throws(
            () => renderContainerdConfig(`version = 2\n${dockerDefault}`),
            /disabled_plugins: the CRI plugin "cri" is disabled.*configure the `docker` runtime/,
        );
    });

    it("refuses config version 1 and unknown versions", () => {
        assert.throws(() => renderContainerdConfig("version = 1\n"), /config version 1 cannot import drop-in files/);
        assert.throws(() => renderContainerdConfig("version = 5\n"), /unsupported config version 5/);
    });

    it("reports invalid TOML with its line, producing nothing", () => {
        assert.throws(() => renderContainerdConfig("version = 2\n[plugins\n"), /config\.toml line 2: not valid TOML/);
    });

    it("uses the v3 CRI plugin and no v2-only keys for containerd 2.x configs", () => {
        const { dropIn, criPlugin } = renderContainerdConfig("version = 3\n");
        assert.equal(criPlugin, "io.containerd.cri.v1.runtime");
        const data = TOML.parse(dropIn.text) as any;
        assert.deepEqual(data.plugins[criPlugin].containerd.runtimes.nvidia, {
            privileged_without_host_devices: false,
            runtime_type: "io.containerd.runc.v2",
            options: { BinaryName: "/usr/bin/nvidia-container-runtime" },
        });
    });

    it("removes a default naming nvidia from the drop-in unless set-as-default (nvidia-ctk semantics)", () => {
        const input = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\ndefault_runtime_name = "nvidia"\n';
        const data = TOML.parse(renderContainerdConfig(input).dropIn.text) as any;
        assert.equal(data.plugins["io.containerd.grpc.v1.cri"].containerd.default_runtime_name, undefined);
    });

    it("inherits SystemdCgroup from `containerd config dump` when the file relies on defaults (§11 #9)", () => {
        const dump =
            'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\ndefault_runtime_name = "runc"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\nruntime_type = "io.containerd.runc.v2"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\nSystemdCgroup = true\n';
        const fromFile = TOML.parse(renderContainerdConfig("version = 2\n").dropIn.text) as any;
        const fromDump = TOML.parse(renderContainerdConfig("version = 2\n", { effectiveConfig: dump }).dropIn.text) as any;
        assert.equal(fromFile.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.nvidia.options.SystemdCgroup, undefined);
        assert.equal(fromDump.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.nvidia.options.SystemdCgroup, true);
    });
});
