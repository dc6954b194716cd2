import { strict as assert } from "node:assert";
import * as TOML from "@iarna/toml";
import fc from "fast-check";
import { GpuConfigError } from "../../../sdk/errors";
import { jsonNodeOf, stringifyJsonDocument } from "../../../sdk/json/jsonDocument";
import { renderContainerdConfig } from "../../../sdk/runtime/containerdConfig";
import { renderDockerConfig } from "../../../sdk/runtime/dockerDaemonJson";
import { renderToolkitConfig } from "../../../sdk/toolkit/toolkitConfig";
import { emitGoToml, formatValue } from "../../../sdk/toml/goTomlEmitter";
import { parseToml } from "../../../sdk/toml/parseToml";

/** TOML 1.0: no raw control character but tab, and CR only in CRLF. */
const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\r(?!\n)/;
/** What JSON output must never hold raw: C0 (but the layout's tab and LF), DEL and C1 controls; a raw LF in a string fails JSON.parse. */
const RAW_JSON_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("TOML and JSON emitters escape control characters (issue 14)", () => {
    it("an escaped DEL in containerd's config stays escaped in the drop-in (no raw U+007F)", () => {
        const config = 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "pause\\u007f:3.10"\n';
        const { dropIn } = renderContainerdConfig(config);
        assert.equal(RAW_CONTROL.test(dropIn.text), false, JSON.stringify(dropIn.text));
        assert.match(dropIn.text, /sandbox_image = "pause\\u007f:3\.10"/);
        assert.equal((TOML.parse(dropIn.text) as any).plugins["io.containerd.grpc.v1.cri"].sandbox_image, "pause\u007f:3.10");
    });

    it("refuses a bare CR in a multi-line literal (and basic) string by file and line, instead of passing it through", () => {
        for (const value of ["'''a\rb'''", '"""a\rb"""']) {
            const config = `version = 2\n\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = ${value}\n`;
            assert.throws(
                () => renderContainerdConfig(config),
                (e: unknown) => {
                    assert.ok(e instanceof GpuConfigError);
                    assert.equal(e.field, "/etc/containerd/config.toml line 4");
                    assert.match(e.message, /U\+000D/);
                    return true;
                },
            );
            assert.throws(
                () => renderToolkitConfig(`[nvidia-container-cli]\nldconfig = ${value}\n`, [{ key: "nvidia-container-cli.no-cgroups", value: true }]),
                GpuConfigError,
            );
        }
        assert.doesNotThrow(() => parseToml("a = '''x\r\ny'''\r\n", "crlf.toml"), "CRLF stays allowed");
    });

    it("emits every string and key as valid TOML that reads back the same, whatever characters it holds", () => {
        const anyString = fc.string({ unit: "binary", maxLength: 20 }).filter((s) => !/[\uD800-\uDFFF]/.test(s));
        fc.assert(
            fc.property(anyString, anyString, (key, value) => {
                const text = emitGoToml({ t: { [key === "" ? "k" : key]: value, list: [value] } });
                assert.equal(RAW_CONTROL.test(text), false, JSON.stringify(text));
                const back = TOML.parse(text) as any;
                assert.equal(back.t[key === "" ? "k" : key], value);
                assert.deepEqual([...back.t.list], [value]);
            }),
            { numRuns: 300 },
        );
        assert.equal(formatValue("a\u007fb\u0085"), '"a\\u007fb\\u0085"');
        assert.throws(
            () => formatValue("a\uD800"),
            (e: unknown) => e instanceof GpuConfigError && /surrogate/.test(e.message),
        );
        assert.equal(formatValue(Infinity), "inf");
        assert.equal(formatValue(NaN), "nan");
    });

    it("JSON output escapes every control character, DEL and C1 included", () => {
        const text = stringifyJsonDocument(jsonNodeOf({ "k\u007f": "a\u007fb\u0085c\u0001", list: ["\u009f"] }), "  ");
        assert.equal(RAW_JSON_CONTROL.test(text), false, JSON.stringify(text));
        assert.deepEqual(JSON.parse(text), { "k\u007f": "a\u007fb\u0085c\u0001", list: ["\u009f"] });
        const docker = renderDockerConfig(undefined, { runtimeName: "nvidia" });
        assert.equal(RAW_JSON_CONTROL.test(docker.text), false);
    });

    it("a toolkit --set value with DEL is written escaped", () => {
        const result = renderToolkitConfig(undefined, [{ key: "nvidia-container-runtime.log-level", value: "info\u007f" }]);
        assert.equal(RAW_CONTROL.test(result.text), false);
        assert.match(result.text, /log-level = "info\\u007f"/);
    });
});
