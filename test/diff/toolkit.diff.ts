import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as TOML from "@iarna/toml";
import { parseHostFacts } from "../../sdk/host/hostFacts";
import { HostSnapshot } from "../../sdk/host/snapshot";
import { dockerRootlessEngine } from "../../sdk/runtime/dockerRootless";
import { toolkitPlan } from "../../sdk/toolkit/toolkitPlan";
import { plain } from "../../sdk/toml/parseToml";
import { RUNTIME_MODES, TOOLKIT_CONFIG, ToolkitSetting, runtimeModeSetting } from "../../sdk/toolkit/toolkitConfig";
import { REPO_ROOT } from "../helpers/paths";
import { NVIDIA_CTK, SETUP_HINT, missingBinaries } from "./binaries";
import { fixtureCases, registerCases } from "./cases";
import { sample, toolkitSets } from "./generators";
import { runTheirs } from "./harness";
import { DiffCase } from "./knownBugs";

/** `nvidia-ctk config default`: the file the packages' postinst writes, which `--set` then edits. */
function ctkDefault(): string | undefined {
    return fs.existsSync(NVIDIA_CTK) ? spawnSync(NVIDIA_CTK, ["config", "default"], { encoding: "utf8" }).stdout : undefined;
}

/** The default with values already set, as a host that was configured before looks. */
const edited = (text: string) =>
    text
        .replace("#no-cgroups = false", "no-cgroups = true")
        .replace('mode = "auto"', 'mode = "cdi"')
        .replace('#debug = "/var/log/nvidia-container-runtime.log"', 'debug = "/dev/null"');

registerCases("toolkit config.toml: nvidia-ctk v1.20.0 `config --set --in-place` vs renderToolkitConfig", () => {
    const base = ctkDefault();
    const starts = base === undefined ? [] : [base, edited(base)];
    return [
        ...fixtureCases("toolkit-config").map((c) => ({ ...c, input: c.input ?? base })),
        ...starts.flatMap((start, s) =>
            sample(toolkitSets, 30, 5 + s).map((flags, i): DiffCase => ({
                target: "toolkit-config",
                name: `generated ${s === 0 ? "on the default" : "on an edited file"} #${i + 1}`,
                input: start,
                flags,
            })),
        ),
    ];
});

/** `--set KEY=VALUE` flags for settings, as the plan's nvidia-ctk step passes them (runtimeSteps.ts toolkitConfigOnHostStep). */
const setFlags = (settings: ToolkitSetting[]) => settings.flatMap((s) => ["--set", `${s.key}=${Array.isArray(s.value) ? s.value.join(",") : String(s.value)}`]);

/** Files a host may hold when the plan sets the runtime mode: as packaged, edited, without the key, commented, without its table. */
function modeStarts(base: string): Array<[string, string | undefined]> {
    return [
        ["the default", base],
        ["an edited file", edited(base)],
        ["a file without the mode line", base.replace(/^mode = "auto"\n/m, "")],
        ["a file with the mode commented out", base.replace('mode = "auto"', '#mode = "auto"')],
        ["a file without the runtime's table", base.replace(/\[nvidia-container-runtime\]\n(?:[^[\n].*\n|\n)*/, "")],
        ["a missing file", undefined],
    ];
}

registerCases(
    "toolkit config.toml: toolkit.mode (issue 16), nvidia-ctk v1.20.0 `config --set nvidia-container-runtime.mode=<m> --in-place` vs renderToolkitConfig",
    () => {
        const base = ctkDefault();
        if (base === undefined) return [];
        return modeStarts(base).flatMap(([start, input]) =>
            RUNTIME_MODES.flatMap((mode): DiffCase[] => [
                { target: "toolkit-config", name: `mode ${mode} on ${start}`, input, flags: setFlags([runtimeModeSetting(mode)]) },
                {
                    target: "toolkit-config",
                    name: `mode ${mode} with rootless Docker's no-cgroups on ${start}`,
                    input,
                    flags: setFlags([runtimeModeSetting(mode), ...dockerRootlessEngine.toolkitSettings("legacy")]),
                },
            ]),
        );
    },
);

/** A host with `config` as its toolkit config.toml (facts of a recorded probe: the toolkit plan reads only the files). */
function hostWith(config: string): HostSnapshot {
    const facts = parseHostFacts(fs.readFileSync(path.join(REPO_ROOT, "test/fixtures/probe/h100-ubuntu2404-root.json"), "utf8"));
    return { facts, files: { [TOOLKIT_CONFIG]: config }, priorWrites: {}, containerdDump: undefined };
}

describe("toolkit.mode through the plan (issue 16): the previewed config.toml is what nvidia-ctk v1.20.0 writes with the plan's own --set flags", function () {
    this.timeout(120000);
    before(function () {
        const missing = missingBinaries();
        if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}: ${SETUP_HINT}`);
    });
    const base = () => ctkDefault()!;
    for (const mode of RUNTIME_MODES) {
        for (const [start, pick] of [
            ["the default", (b: string) => b],
            ["an edited file", edited],
        ] as const) {
            it(`mode ${mode} on ${start}`, () => {
                const input = pick(base());
                // The guarded write's text, as the preview shows it.
                const steps = toolkitPlan({ version: "1.20.0-1", packageManager: "apt", mode }, hostWith(input));
                const ours = steps[steps.length - 1].files![0].text;
                // The flags of the nvidia-ctk step the same plan runs when the file appears only during the run.
                const onHost = toolkitPlan({ version: "1.20.0-1", packageManager: "apt", mode });
                const line = onHost[onHost.length - 1].script.split("\n").find((l) => l.startsWith("nvidia-ctk config "))!;
                const flags = line.replace(/^nvidia-ctk config --config-file "\$config" --in-place /, "").split(" ");
                const dir = fs.mkdtempSync(path.join(os.tmpdir(), "diff-mode-"));
                try {
                    const theirs = runTheirs({ target: "toolkit-config", name: mode, input, flags }, dir);
                    assert.ok(theirs.ok, theirs.ok ? "" : theirs.error);
                    assert.deepEqual(plain(TOML.parse(ours)), plain(TOML.parse(theirs.files["config.toml"])));
                    assert.equal((TOML.parse(ours) as any)["nvidia-container-runtime"].mode, mode);
                } finally {
                    fs.rmSync(dir, { recursive: true, force: true });
                }
            });
        }
    }
});
