import { strict as assert } from "node:assert";
import { renderCrioConfig } from "../../../sdk/runtime/crioConfig";

const CRUN_DEFAULT = `[crio]
[crio.runtime]
default_runtime = "crun"
cgroup_manager = "systemd"

[crio.runtime.runtimes.crun]
runtime_path = "/usr/bin/crun"
runtime_type = "oci"
runtime_root = "/run/crun"
monitor_path = "/usr/libexec/crio/conmon"
allowed_annotations = ["io.containers.trace-syscall"]

[crio.runtime.runtimes.runc]
runtime_path = "/usr/bin/runc"
runtime_type = "oci"
`;

describe("renderCrioConfig", () => {
    it("writes to crio.conf.d, the folder CRI-O reads (§11 #6, #18)", () => {
        assert.equal(renderCrioConfig(undefined).path, "/etc/crio/crio.conf.d/99-nvidia.toml");
    });

    it("matches nvidia-ctk's bytes for a host without crio.conf", () => {
        assert.equal(
            renderCrioConfig(undefined).text,
            `
[crio]

  [crio.runtime]

    [crio.runtime.runtimes]

      [crio.runtime.runtimes.nvidia]
        runtime_path = "/usr/bin/nvidia-container-runtime"
        runtime_type = "oci"
`,
        );
    });

    it("inherits the default runtime's options but not its runtime_root (§11 #14)", () => {
        const result = renderCrioConfig(CRUN_DEFAULT, { setAsDefault: true });
        assert.equal(result.inheritedFrom, "crun");
        assert.equal(
            result.text,
            `
[crio]

  [crio.runtime]
    default_runtime = "nvidia"

    [crio.runtime.runtimes]

      [crio.runtime.runtimes.nvidia]
        allowed_annotations = ["io.containers.trace-syscall"]
        monitor_path = "/usr/libexec/crio/conmon"
        runtime_path = "/usr/bin/nvidia-container-runtime"
        runtime_type = "oci"
`,
        );
    });

    it("never copies from a default that is itself an nvidia runtime", () => {
        const input = CRUN_DEFAULT.replace('default_runtime = "crun"', 'default_runtime = "nvidia"');
        assert.equal(renderCrioConfig(input).inheritedFrom, "runc");
    });
});
