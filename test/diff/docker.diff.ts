import { daemonJsonText, runtimeFlags, sample } from "./generators";
import { fixtureCases, registerCases } from "./cases";
import { DiffCase } from "./knownBugs";

/** Inputs nvidia-ctk mishandles (§11 #2): each must be explained by a row of knownBugs.ts. */
const MALFORMED: Array<[string, string, string[]]> = [
    ["empty file", "", []],
    ["whitespace only", "  \n\n", ["--set-as-default"]],
    ["trailing text after the object", '{"log-driver": "journald"} # managed\n', []],
    ["two objects", '{"debug": true}\n{"debug": false}\n', ["--cdi.enabled"]],
    ["runtimes is a list", '{"runtimes": []}\n', []],
    ["runtimes is a string", '{"runtimes": "nvidia"}\n', ["--set-as-default"]],
    ["features is a list, with --cdi.enabled", '{"features": ["buildkit"]}\n', ["--cdi.enabled"]],
    ["features is a list, without --cdi.enabled", '{"features": ["buildkit"]}\n', []],
    ["escaped HTML and a big number", '{"insecure-registries": ["a<b>&c"], "big": 12345678901234567890, "ratio": 1.5}', ["--cdi.enabled"]],
    [
        "an existing nvidia entry with extra keys",
        '{"runtimes": {"nvidia": {"path": "/old/nvidia", "runtimeArgs": ["--debug"]}}, "default-runtime": "nvidia"}',
        [],
    ],
];

registerCases("Docker daemon.json: nvidia-ctk v1.20.0 vs renderDockerConfig", () => [
    ...fixtureCases("docker"),
    { target: "docker", name: "missing daemon.json", input: undefined, flags: [] },
    ...MALFORMED.map(([name, input, flags]): DiffCase => ({ target: "docker", name, input, flags })),
    ...sample(daemonJsonText, 110, 1).map((input, i): DiffCase => ({
        target: "docker",
        name: `generated #${i + 1}`,
        input,
        flags: sample(runtimeFlags(false), 1, 1000 + i)[0],
    })),
]);
