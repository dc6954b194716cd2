import * as fs from "node:fs";
import { CONTAINERDS, containerdDefault, hermetic } from "./binaries";
import { fixtureCases, registerCases } from "./cases";
import { containerdText, containerdV2, containerdV3, runtimeFlags, sample } from "./generators";
import { DiffCase } from "./knownBugs";

const FLAG_SETS = [
    [],
    ["--set-as-default", "--cdi.enabled"],
    ["--nvidia-runtime-name=nvidia-cdi", "--cdi.enabled"],
    ["--set-as-default", "--nvidia-runtime-path=/usr/local/nvidia/toolkit/nvidia-container-runtime"],
];

/** Each containerd's own `containerd config default` (v2 for 1.x, v3 for 2.1/2.2, v4 for 2.3/2.4), with each flag set. */
function defaultConfigCases(): DiffCase[] {
    return CONTAINERDS.filter((b) => fs.existsSync(b.bin)).flatMap((b) => {
        const text = hermetic(containerdDefault(b.bin));
        return FLAG_SETS.map((flags): DiffCase => ({ target: "containerd", name: `containerd ${b.label} config default`, input: text, flags }));
    });
}

/** Inputs where nvidia-ctk is a silent no-op or worse (§11 #4, #1430), and edge cases of empty files. */
const SPECIAL: Array<[string, string | undefined, string[]]> = [
    ["missing config.toml", undefined, []],
    ["missing config.toml, set as default", undefined, ["--set-as-default", "--cdi.enabled"]],
    ["empty config.toml", "", []],
    ["comment-only config.toml", "# containerd config, see containerd-config.toml(5)\n", ["--set-as-default"]],
    ["no version key (read as version 1)", 'root = "/var/lib/containerd"\n[plugins.cri.containerd]\nsnapshotter = "overlayfs"\n', []],
    ["version 1", 'version = 1\n[plugins.cri.containerd.runtimes.runc]\nruntime_type = "io.containerd.runc.v2"\n', ["--set-as-default"]],
    [
        "Docker's containerd.io default (CRI disabled, no version)",
        '#   Copyright 2018-2022 Docker Inc.\n\ndisabled_plugins = ["cri"]\n\n#root = "/var/lib/containerd"\n',
        [],
    ],
    ["version 2 with the CRI plugin disabled", 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n', ["--cdi.enabled"]],
    [
        "re-run: nvidia already the default in config.toml",
        'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\ndefault_runtime_name = "nvidia"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]\nruntime_type = "io.containerd.runc.v2"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]\nBinaryName = "/usr/bin/nvidia-container-runtime"\n',
        [],
    ],
    [
        "v3 runc without runtime_type (#1956)",
        "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\nSystemdCgroup = true\n",
        [],
    ],
    ["v2 with a relative import", 'version = 2\nimports = ["extra.d/*.toml"]\n', ["--set-as-default"]],
];

registerCases("containerd config.toml + drop-in: nvidia-ctk v1.20.0 vs renderContainerdConfig, loaded in containerd 1.6–2.4", () => [
    ...fixtureCases("containerd"),
    ...SPECIAL.map(([name, input, flags]): DiffCase => ({ target: "containerd", name, input, flags })),
    ...defaultConfigCases(),
    ...sample(containerdText(containerdV2), 50, 2).map((input, i): DiffCase => ({
        target: "containerd",
        name: `generated v2 #${i + 1}`,
        input,
        flags: sample(runtimeFlags(true), 1, 2000 + i)[0],
    })),
    ...sample(containerdText(containerdV3), 40, 3).map((input, i): DiffCase => ({
        target: "containerd",
        name: `generated v3/v4 #${i + 1}`,
        input,
        flags: sample(runtimeFlags(true), 1, 3000 + i)[0],
    })),
]);
