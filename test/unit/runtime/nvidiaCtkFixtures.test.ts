import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as TOML from "@iarna/toml";
import { RENDER_TARGETS, RenderTarget, parseRenderFlags, renderFromFlags } from "../../../cli/renderCommand";
import { plain } from "../../../sdk/toml/parseToml";
import { NVIDIA_CTK_FIXTURES, readIfExists } from "../../helpers/paths";

const KEEP_BUILT_IN_RUNC = {
    bug: "nvidia-ctk-behaviour §11 #20: without a runc entry the drop-in hides containerd's built-in runc on containerd < 2.1",
    correct: (file: string, data: any) => {
        if (file === "99-nvidia.toml") {
            data.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runc = { runtime_type: "io.containerd.runc.v2" };
        }
    },
};

/**
 * Where our output deliberately differs from nvidia-ctk v1.20.0, the fixture's expected data is
 * corrected here, and the test checks both that nvidia-ctk's output has the bug and that ours does not.
 */
const BUG_FIXES: Record<string, { bug: string; correct: (file: string, data: any) => void }> = {
    "docker-c-features-cdi": {
        bug: "nvidia-ctk-behaviour §11 #1: --cdi.enabled drops every other feature flag read from daemon.json",
        correct: (_file, data) => Object.assign(data.features, { buildkit: true, "containerd-snapshotter": false }),
    },
    "containerd-a-missing": KEEP_BUILT_IN_RUNC,
    "containerd-d-v2-imports": KEEP_BUILT_IN_RUNC,
    "crio-a-runc": {
        bug: "nvidia-ctk-behaviour §11 #14: runtime_root is copied from the runtime it inherits from",
        correct: (_file, data) => delete data.crio.runtime.runtimes.nvidia.runtime_root,
    },
};

const INPUT_NAMES: Record<RenderTarget, string> = {
    docker: "input.daemon.json",
    containerd: "input.config.toml",
    crio: "input.crio.conf",
    "toolkit-config": "input.config.toml",
};

function parseFile(name: string, text: string): unknown {
    return name.endsWith(".json") ? JSON.parse(text) : plain(TOML.parse(text));
}

describe("renderers against nvidia-ctk v1.20.0 fixtures", () => {
    const cases = fs.readdirSync(NVIDIA_CTK_FIXTURES).filter((d) => fs.statSync(path.join(NVIDIA_CTK_FIXTURES, d)).isDirectory());

    it("finds the fixture folder with its cases", () => {
        assert.ok(cases.length >= 11, `expected the nvidia-ctk cases in ${NVIDIA_CTK_FIXTURES}`);
    });

    for (const name of cases) {
        const dir = path.join(NVIDIA_CTK_FIXTURES, name);
        const [target, ...flagTokens] = fs.readFileSync(path.join(dir, "flags"), "utf8").trim().split(/\s+/);
        const fix = BUG_FIXES[name];
        it(`${name}: ${target} ${flagTokens.join(" ")}${fix ? ` (fixes ${fix.bug.split(":")[0]})` : ""}`, () => {
            assert.ok((RENDER_TARGETS as readonly string[]).includes(target), `unknown target ${target}`);
            const input = readIfExists(path.join(dir, INPUT_NAMES[target as RenderTarget]));
            const results = renderFromFlags(target as RenderTarget, input, parseRenderFlags(flagTokens));
            const expectedFiles = fs.readdirSync(dir).filter((f) => f.startsWith("expected."));
            assert.equal(results.length, expectedFiles.length, "one rendered file per expected file");
            for (const expectedFile of expectedFiles) {
                const fileName = expectedFile.slice("expected.".length);
                const ours = results.find((r) => path.basename(r.path) === fileName);
                assert.ok(ours, `we render ${fileName}`);
                const theirs = parseFile(fileName, fs.readFileSync(path.join(dir, expectedFile), "utf8")) as any;
                const oursData = parseFile(fileName, ours.text);
                if (fix) {
                    const corrected = structuredClone(theirs);
                    fix.correct(fileName, corrected);
                    if (JSON.stringify(corrected) !== JSON.stringify(theirs)) {
                        assert.notDeepStrictEqual(oursData, theirs, `nvidia-ctk's ${fileName} shows the bug: ${fix.bug}`);
                    }
                    assert.deepStrictEqual(oursData, corrected, `${fileName} with the fix for ${fix.bug}`);
                } else {
                    assert.deepStrictEqual(oursData, theirs, fileName);
                }
            }
        });
    }
});
