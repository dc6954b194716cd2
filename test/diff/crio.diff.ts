import { fixtureCases, registerCases } from "./cases";
import { crioText, runtimeFlags, sample } from "./generators";
import { DiffCase } from "./knownBugs";

/** §4's own example: crun as the default, whose runtime_root nvidia-ctk copies (§11 #14). */
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

registerCases("CRI-O drop-in: nvidia-ctk v1.20.0 vs renderCrioConfig", () => [
    ...fixtureCases("crio"),
    { target: "crio", name: "no crio.conf (modern packages ship only crio.conf.d)", input: undefined, flags: [] },
    { target: "crio", name: "crun as the default runtime", input: CRUN_DEFAULT, flags: ["--set-as-default"] },
    { target: "crio", name: "crun as the default runtime, --cdi.enabled (ignored by both)", input: CRUN_DEFAULT, flags: ["--cdi.enabled"] },
    ...sample(crioText, 50, 4).map((input, i): DiffCase => ({
        target: "crio",
        name: `generated #${i + 1}`,
        input,
        flags: sample(runtimeFlags(true), 1, 4000 + i)[0],
    })),
]);
