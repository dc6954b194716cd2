import { strict as assert } from "node:assert";
import { renderDockerConfig } from "../../../sdk/runtime/dockerDaemonJson";
import { GpuConfigError } from "../../../sdk/errors";

describe("renderDockerConfig", () => {
    const existing = `{
  "log-driver": "json-file",
  "log-opts": {"max-size": "100m", "max-file": "3"},
  "insecure-registries": ["a<b>&c"],
  "big": 12345678901234567890,
  "ratio": 1.50,
  "bridge": "none",
  "iptables": false
}
`;

    it("keeps every unrelated key, their order, number text, string escapes, untouched values' layout and the 2-space indent", () => {
        const result = renderDockerConfig(existing, { setAsDefault: true });
        assert.equal(
            result.text,
            `{
  "log-driver": "json-file",
  "log-opts": {"max-size": "100m", "max-file": "3"},
  "insecure-registries": ["a<b>&c"],
  "big": 12345678901234567890,
  "ratio": 1.50,
  "bridge": "none",
  "iptables": false,
  "runtimes": {
    "nvidia": {
      "path": "nvidia-container-runtime",
      "args": []
    }
  },
  "default-runtime": "nvidia"
}
`,
        );
        assert.deepEqual(result.summary, ["runtimes.nvidia: added (path nvidia-container-runtime)", "default-runtime: runc (built-in) → nvidia"]);
        assert.equal(result.changed, true);
    });

    it("keeps tabs and the absence of a final newline", () => {
        const result = renderDockerConfig('{\n\t"debug": true\n}');
        assert.match(result.text, /^\{\n\t"debug": true,\n\t"runtimes": \{\n\t\t"nvidia"/);
        assert.ok(!result.text.endsWith("\n"));
    });

    it("reports unchanged and returns the same bytes when rendered again", () => {
        const first = renderDockerConfig(existing, { setAsDefault: true, enableCdi: true });
        const second = renderDockerConfig(first.text, { setAsDefault: true, enableCdi: true });
        assert.equal(second.text, first.text);
        assert.equal(second.changed, false);
        assert.deepEqual(second.summary, []);
    });

    it("leaves a one-line file that already has the runtime byte-identical", () => {
        const line = '{"runtimes":{"nvidia":{"path":"nvidia-container-runtime","args":[]}}}';
        const result = renderDockerConfig(line);
        assert.equal(result.text, line);
        assert.equal(result.changed, false);
    });

    it("merges features.cdi into the existing feature flags", () => {
        const result = renderDockerConfig('{"features": {"buildkit": true, "containerd-snapshotter": true}}', { enableCdi: true });
        assert.deepEqual(JSON.parse(result.text).features, { buildkit: true, "containerd-snapshotter": true, cdi: true });
        assert.deepEqual(result.summary.at(-1), "features.cdi: true (kept buildkit, containerd-snapshotter)");
    });

    it("leaves default-runtime alone unless asked, like nvidia-ctk", () => {
        const result = renderDockerConfig('{"default-runtime": "kata"}');
        assert.equal(JSON.parse(result.text)["default-runtime"], "kata");
    });

    it("starts a missing file from {} with a final newline", () => {
        const result = renderDockerConfig(undefined);
        assert.equal(result.previous, undefined);
        assert.deepEqual(JSON.parse(result.text), { runtimes: { nvidia: { path: "nvidia-container-runtime", args: [] } } });
        assert.ok(result.text.endsWith("}\n"));
    });

    const refusals: Array<[string, string, RegExp]> = [
        ["an empty file", "", /daemon\.json line 1 column 1: the file is empty/],
        ["a whitespace-only file", "  \n", /the file is empty/],
        ["a missing comma, with its line", '{\n  "a": 1\n  "b": 2\n}', /daemon\.json line 3 column 3: expected ',' or '\}'/],
        ["trailing text after the object", '{"a": 1} {"b": 2}', /unexpected text after the JSON value/],
        ["a duplicate key", '{"a": 1, "a": 2}', /duplicate key "a"/],
        ["runtimes that is not an object", '{"runtimes": []}', /"runtimes": is not a JSON object/],
        ["features that is not an object", '{"features": true}', /"features": is not a JSON object/],
        ["a top level that is not an object", "[]", /top level is not a JSON object/],
    ];
    for (const [what, text, message] of refusals) {
        it(`refuses ${what} with the file and the fix`, () => {
            assert.throws(
                () => renderDockerConfig(text, { enableCdi: true }),
                (e: unknown) => {
                    assert.ok(e instanceof GpuConfigError);
                    assert.match(e.message, message);
                    assert.match(e.message, /\/etc\/docker\/daemon\.json/);
                    return true;
                },
            );
        });
    }

    it("refuses a runtime name or path that could break out of the file", () => {
        assert.throws(() => renderDockerConfig(undefined, { runtimeName: 'x"; rm' }), /runtimeName: .* is not valid/);
        assert.throws(() => renderDockerConfig(undefined, { runtimePath: "/usr/bin/$(id)" }), /runtimePath: .* is not valid/);
    });

    it("names the rootless path in its messages", () => {
        const path = "/home/alice/.config/docker/daemon.json";
        assert.throws(() => renderDockerConfig("{", { path }), new RegExp(path.replace(/\./g, "\\.")));
        assert.equal(renderDockerConfig(undefined, { path }).path, path);
    });
});
