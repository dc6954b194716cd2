import { strict as assert } from "node:assert";
import * as TOML from "@iarna/toml";
import { diffLines } from "diff";
import fc from "fast-check";
import { renderContainerdConfig } from "../../../sdk/runtime/containerdConfig";
import { renderDockerConfig } from "../../../sdk/runtime/dockerDaemonJson";
import { TOOLKIT_CONFIG_KEYS, DEFAULT_TOOLKIT_CONFIG, parseToolkitSetting, renderToolkitConfig } from "../../../sdk/toolkit/toolkitConfig";
import { emitGoToml } from "../../../sdk/toml/goTomlEmitter";
import { plain } from "../../../sdk/toml/parseToml";

const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const options = fc.record({ setAsDefault: fc.boolean(), enableCdi: fc.boolean() });

describe("renderer properties (fast-check)", () => {
    it("docker: no input key is lost, and a second render gives the same bytes and 'unchanged'", () => {
        fc.assert(
            fc.property(fc.dictionary(key, jsonValue, { maxKeys: 8 }), fc.constantFrom("", "  ", "    ", "\t"), options, (config, indent, opts) => {
                const input = JSON.stringify(config, null, indent);
                const first = renderDockerConfig(input, opts);
                const out = JSON.parse(first.text);
                for (const [k, v] of Object.entries(JSON.parse(input))) {
                    if (k === "runtimes" || k === "features" || (k === "default-runtime" && opts.setAsDefault)) continue;
                    assert.deepStrictEqual(out[k], v, `key ${k} kept`);
                }
                assert.deepEqual(out.runtimes.nvidia, { path: "nvidia-container-runtime", args: [] });
                const second = renderDockerConfig(first.text, opts);
                assert.equal(second.text, first.text);
                assert.equal(second.changed, false);
            }),
            { numRuns: 200 },
        );
    });

    const tomlScalar = fc.oneof(fc.string({ maxLength: 12 }), fc.boolean(), fc.integer({ min: -1e6, max: 1e6 }));
    const runtime = fc.record(
        {
            runtime_type: fc.constantFrom("io.containerd.runc.v2", ""),
            options: fc.dictionary(fc.constantFrom("SystemdCgroup", "BinaryName", "Root", "IoGid"), tomlScalar),
        },
        { requiredKeys: [] },
    );
    const containerdConfig = fc.record({
        version: fc.constantFrom(2, 3),
        root: fc.constant("/var/lib/containerd"),
        oom_score: fc.integer({ min: -999, max: 0 }),
        runtimes: fc.dictionary(fc.constantFrom("runc", "crun", "kata", "my.runtime"), runtime, { maxKeys: 3 }),
        extra: fc.dictionary(key, tomlScalar, { maxKeys: 4 }),
    });

    it("containerd: config.toml only gains the import, the drop-in keeps every CRI setting, and rendering is idempotent", () => {
        fc.assert(
            fc.property(containerdConfig, options, fc.boolean(), (c, opts, withComment) => {
                const plugin = c.version === 2 ? "io.containerd.grpc.v1.cri" : "io.containerd.cri.v1.runtime";
                const input = emitGoToml({
                    version: c.version,
                    root: c.root,
                    oom_score: c.oom_score,
                    plugins: { [plugin]: { ...c.extra, containerd: { runtimes: c.runtimes } } },
                });
                const text = withComment ? `# owned by ops\n${input}` : input;
                const result = renderContainerdConfig(text, opts);
                const before = plain(TOML.parse(text)) as any;
                const after = plain(TOML.parse(result.topLevel.text)) as any;
                assert.deepEqual(after.imports, ["/etc/containerd/conf.d/*.toml"]);
                delete after.imports;
                assert.deepStrictEqual(after, before);
                if (withComment) assert.ok(result.topLevel.text.startsWith("# owned by ops\n"));
                const dropIn = plain(TOML.parse(result.dropIn.text)) as any;
                for (const [k, v] of Object.entries(c.extra)) assert.deepStrictEqual(dropIn.plugins[plugin][k], v);
                for (const name of Object.keys(c.runtimes)) assert.ok(dropIn.plugins[plugin].containerd.runtimes[name], `runtime ${name} kept`);
                const again = renderContainerdConfig(result.topLevel.text, opts);
                assert.equal(again.topLevel.changed, false);
                assert.equal(again.dropIn.text, result.dropIn.text);
            }),
            { numRuns: 150 },
        );
    });

    it("toolkit config: only the set keys change, and a second render is unchanged", () => {
        const boolKeys = Object.entries(TOOLKIT_CONFIG_KEYS)
            .filter(([, t]) => t === "bool")
            .map(([k]) => k);
        fc.assert(
            fc.property(fc.subarray(boolKeys), fc.boolean(), (keys, value) => {
                const settings = keys.map((k) => parseToolkitSetting(`${k}=${value}`));
                const first = renderToolkitConfig(DEFAULT_TOOLKIT_CONFIG, settings);
                const second = renderToolkitConfig(first.text, settings);
                assert.equal(second.changed, false);
                const parts = diffLines(DEFAULT_TOOLKIT_CONFIG, first.text);
                const removed = parts.filter((p) => p.removed).reduce((n, p) => n + (p.count ?? 0), 0);
                const added = parts.filter((p) => p.added).reduce((n, p) => n + (p.count ?? 0), 0);
                assert.ok(removed <= keys.length && added <= keys.length, "each set key touches at most its own line");
                const data = plain(TOML.parse(first.text)) as any;
                for (const k of keys)
                    assert.equal(
                        k.split(".").reduce((node, part) => node[part], data),
                        value,
                    );
            }),
            { numRuns: 100 },
        );
    });
});
