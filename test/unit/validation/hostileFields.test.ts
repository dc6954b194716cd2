import { strict as assert } from "node:assert";
import * as TOML from "@iarna/toml";
import fc from "fast-check";
import { checkedRuntimeSpec } from "../../../components/runtimeComponents";
import { GpuConfigError } from "../../../sdk/errors";
import { RuntimeSpec } from "../../../sdk/node/nodePlan";
import { renderContainerdConfig } from "../../../sdk/runtime/containerdConfig";
import { renderCrioConfig } from "../../../sdk/runtime/crioConfig";
import { renderDockerConfig } from "../../../sdk/runtime/dockerDaemonJson";
import { parseToolkitSetting, renderToolkitConfig } from "../../../sdk/toolkit/toolkitConfig";
import { rootlessDaemonJsonPath, validateCdiSpecOutput, validateHomeFolder, validateNoNulDeep } from "../../../sdk/validate";

/**
 * Hostile strings: NUL, control characters, `..`, leading `-`, quotes, newlines and shell syntax, glued to
 * pieces of valid values so that many come close to being accepted.
 */
const piece = fc.oneof(
    fc.constantFrom(
        "\0",
        "\u007f",
        "\r",
        "\n",
        "\t",
        "\u0085",
        "..",
        ".",
        "-",
        "--",
        "'",
        '"',
        "`",
        "$(id)",
        ";",
        " ",
        "/",
        "//",
        "~",
        "*",
        "\\",
        "/etc/cdi/",
        "/var/run/cdi/",
        "/etc/",
        "nvidia",
        ".yaml",
        ".json",
        "/home/",
        "alice",
        "-x",
        "../",
        "@",
        "+",
        "_",
    ),
    fc.string({ unit: "binary", maxLength: 4 }),
);
const hostile = fc.array(piece, { minLength: 1, maxLength: 6 }).map((parts) => parts.join(""));

/** Either refused by a GpuConfigError naming `field`, or accepted and then checked by `safe`. */
function refusedOrSafe(field: string | RegExp, run: () => void): "refused" | "accepted" {
    try {
        run();
        return "accepted";
    } catch (e) {
        assert.ok(e instanceof GpuConfigError, `not a GpuConfigError: ${String(e)}`);
        if (typeof field === "string") assert.equal(e.field, field);
        else assert.match(e.field, field);
        return "refused";
    }
}

const RAW_TOML_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\r(?!\n)/;
const PLAIN_SEGMENTS = (p: string) =>
    p
        .split("/")
        .slice(1)
        .every((s) => s !== "" && s !== "." && s !== ".." && !s.startsWith("-"));

describe("hostile strings in every string field of the validators (issue 14)", () => {
    it("CdiSpec.output: refused naming `output`, or a plain .yaml/.json file directly in a CDI folder", () => {
        const outcomes = new Set<string>();
        fc.assert(
            fc.property(
                fc.oneof(
                    hostile,
                    hostile.map((h) => `/etc/cdi/${h}.yaml`),
                ),
                (value) => {
                    outcomes.add(
                        refusedOrSafe("output", () => {
                            validateCdiSpecOutput(value);
                            assert.match(value, /^\/(?:etc|var\/run)\/cdi\/[A-Za-z0-9_+@][A-Za-z0-9._+@-]*\.(?:yaml|json)$/);
                            assert.ok(PLAIN_SEGMENTS(value), value);
                        }),
                    );
                },
            ),
            { numRuns: 1500 },
        );
        assert.deepEqual([...outcomes].sort(), ["accepted", "refused"], "the generator reaches both outcomes");
    });

    it("rootlessUser and rootlessHome: refused naming the field, or a plain absolute path", () => {
        fc.assert(
            fc.property(hostile, (value) => {
                refusedOrSafe("rootlessHome", () => {
                    validateHomeFolder(value);
                    assert.match(value, /^\/[A-Za-z0-9._+/@-]*$/);
                    assert.ok(
                        value === "/" ||
                            value
                                .split("/")
                                .slice(1)
                                .every((s) => s !== "" && s !== "." && s !== ".."),
                        value,
                    );
                });
                refusedOrSafe("rootlessUser", () =>
                    assert.match(rootlessDaemonJsonPath(value, "/home/alice"), /^\/home\/alice\/\.config\/docker\/daemon\.json$/),
                );
                refusedOrSafe("rootlessHome", () =>
                    assert.equal(rootlessDaemonJsonPath("alice", value), `${value === "/" ? "" : value}/.config/docker/daemon.json`),
                );
            }),
            { numRuns: 800 },
        );
    });

    it("runtime component args: each hostile field is refused by its own name before the host is read", () => {
        const fields = ["runtimeName", "rootlessUser", "rootlessHome"] as const;
        fc.assert(
            fc.property(hostile, fc.constantFrom(...fields), fc.constantFrom("docker-rootless", "containerd"), (value, field, runtime) => {
                const spec = { runtime, rootlessUser: "alice", [field]: value } as RuntimeSpec;
                if (runtime === "containerd" && field === "rootlessUser") return; // not read for containerd, unless it holds NUL
                refusedOrSafe(field, () => {
                    checkedRuntimeSpec(spec);
                    assert.equal(value.includes("\0"), false);
                    if (field === "runtimeName") assert.match(value, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
                });
            }),
            { numRuns: 800 },
        );
    });

    it("connection fields: a NUL is refused naming connection.<field>, without echoing the value", () => {
        const fields = ["host", "user", "privateKey", "privateKeyPassword", "password", "agentSocketPath", "hostKey", "sudoPassword"];
        fc.assert(
            fc.property(hostile, fc.constantFrom(...fields), (value, field) => {
                refusedOrSafe(`connection.${field}`, () => {
                    validateNoNulDeep({ host: "h", [field]: value }, "connection");
                    assert.equal(value.includes("\0"), false);
                });
            }),
            { numRuns: 500 },
        );
        assert.throws(
            () => validateNoNulDeep({ password: "pw\0hunter2" }, "connection"),
            (e: unknown) => e instanceof GpuConfigError && !e.message.includes("hunter2"),
        );
    });

    it("renderers: runtimeName, runtimePath, configPath and dropInPath are refused by name, or render TOML/JSON that reads back", () => {
        const containerd = "version = 2\n";
        fc.assert(
            fc.property(hostile, fc.constantFrom("runtimeName", "runtimePath", "configPath", "dropInPath"), (value, field) => {
                refusedOrSafe(field, () => {
                    const { dropIn, topLevel } = renderContainerdConfig(containerd, { [field]: value });
                    for (const text of [dropIn.text, topLevel.text]) {
                        assert.equal(RAW_TOML_CONTROL.test(text), false);
                        TOML.parse(text);
                    }
                });
                refusedOrSafe(field, () => {
                    const crio = renderCrioConfig(undefined, { [field]: value });
                    assert.equal(RAW_TOML_CONTROL.test(crio.text), false);
                    TOML.parse(crio.text);
                });
                if (field === "runtimeName" || field === "runtimePath") {
                    refusedOrSafe(field, () => {
                        const docker = renderDockerConfig('{"data-root": "/srv/docker"}\n', { [field]: value });
                        assert.equal(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(docker.text), false);
                        JSON.parse(docker.text);
                    });
                }
            }),
            { numRuns: 400 },
        );
    });

    it("toolkit --set string values: refused by `--set KEY`, or written escaped and read back equal", () => {
        const key = "nvidia-container-runtime.log-level";
        fc.assert(
            fc.property(
                hostile.filter((v) => !/[\uD800-\uDFFF]/.test(v)),
                (value) => {
                    refusedOrSafe(`--set ${key}`, () => {
                        const setting = parseToolkitSetting(`${key}=${value}`);
                        const result = renderToolkitConfig(undefined, [setting]);
                        assert.equal(RAW_TOML_CONTROL.test(result.text), false, JSON.stringify(result.text));
                        assert.equal((TOML.parse(result.text) as any)["nvidia-container-runtime"]["log-level"], value);
                    });
                },
            ),
            { numRuns: 400 },
        );
    });
});
