import { strict as assert } from "node:assert";
import {
    DEFAULT_TOOLKIT_CONFIG,
    configuredRuntimeMode,
    parseToolkitSetting,
    renderToolkitConfig,
    runtimeModeSetting,
} from "../../../sdk/toolkit/toolkitConfig";

const set = (...expressions: string[]) => expressions.map(parseToolkitSetting);

describe("renderToolkitConfig (nvidia-ctk config --set)", () => {
    it("turns the commented default into the set line and changes nothing else (rootless no-cgroups)", () => {
        const result = renderToolkitConfig(DEFAULT_TOOLKIT_CONFIG, set("nvidia-container-cli.no-cgroups"));
        assert.equal(result.text, DEFAULT_TOOLKIT_CONFIG.replace("#no-cgroups = false", "no-cgroups = true"));
        assert.deepEqual(result.summary, ["nvidia-container-cli.no-cgroups: (default) → true"]);
    });

    it("writes an explicit false uncommented, as nvidia-ctk ≥ 1.19 does", () => {
        const result = renderToolkitConfig(DEFAULT_TOOLKIT_CONFIG, set("nvidia-container-cli.no-cgroups=false"));
        assert.equal(result.text, DEFAULT_TOOLKIT_CONFIG.replace("#no-cgroups = false", "no-cgroups = false"));
    });

    it("keeps user comments and custom values (nvidia-ctk re-serialises and drops them, §11 #13, #17)", () => {
        const mine = DEFAULT_TOOLKIT_CONFIG.replace("[nvidia-container-runtime]\n", "[nvidia-container-runtime]\n# set by ops, ticket 42\n").replace(
            '#debug = "/var/log/nvidia-container-runtime.log"',
            'debug = "/dev/null"',
        );
        const result = renderToolkitConfig(mine, set("nvidia-container-runtime.mode=cdi"));
        assert.ok(result.text.includes("# set by ops, ticket 42\n"));
        assert.ok(result.text.includes('debug = "/dev/null"'));
        assert.equal(result.text, mine.replace('mode = "auto"', 'mode = "cdi"'));
    });

    it("parses lists like nvidia-ctk: ':' first, else ','", () => {
        assert.deepEqual(parseToolkitSetting("nvidia-container-runtime.runtimes=crun:runc").value, ["crun", "runc"]);
        assert.deepEqual(parseToolkitSetting("nvidia-container-runtime.runtimes=crun,runc").value, ["crun", "runc"]);
        const result = renderToolkitConfig(DEFAULT_TOOLKIT_CONFIG, set("nvidia-container-runtime.runtimes=crun:runc"));
        assert.ok(result.text.includes('runtimes = ["crun", "runc"]\n'));
    });

    it("adds a key missing from its table after the table's last line, and a missing table at the end", () => {
        const text = '[nvidia-container-cli]\nload-kmods = true\n\n[nvidia-ctk]\npath = "nvidia-ctk"\n';
        const result = renderToolkitConfig(text, set("nvidia-container-cli.no-cgroups", "nvidia-container-runtime-hook.skip-mode-detection"));
        assert.equal(
            result.text,
            '[nvidia-container-cli]\nload-kmods = true\nno-cgroups = true\n\n[nvidia-ctk]\npath = "nvidia-ctk"\n\n[nvidia-container-runtime-hook]\nskip-mode-detection = true\n',
        );
    });

    it("sets top-level keys before the first table", () => {
        const result = renderToolkitConfig('[nvidia-ctk]\npath = "nvidia-ctk"\n', set("accept-nvidia-visible-devices-envvar-when-unprivileged=false"));
        assert.equal(result.text, 'accept-nvidia-visible-devices-envvar-when-unprivileged = false\n[nvidia-ctk]\npath = "nvidia-ctk"\n');
    });

    it("is idempotent and lets the last --set of a key win", () => {
        const once = renderToolkitConfig(DEFAULT_TOOLKIT_CONFIG, set("nvidia-container-runtime.mode=legacy", "nvidia-container-runtime.mode=cdi"));
        assert.ok(once.text.includes('mode = "cdi"'));
        const twice = renderToolkitConfig(once.text, set("nvidia-container-runtime.mode=cdi"));
        assert.equal(twice.changed, false);
        assert.equal(twice.text, once.text);
    });

    it("starts a missing file from the v1.20.0 default", () => {
        const result = renderToolkitConfig(undefined, []);
        assert.equal(result.text, DEFAULT_TOOLKIT_CONFIG);
        assert.equal(result.changed, true);
    });

    it("refuses unknown keys, bad booleans and missing values with the fix", () => {
        assert.throws(
            () => parseToolkitSetting("nvidia-container-cli.no-cgroup"),
            /--set nvidia-container-cli\.no-cgroup: is not a key .* use one of: .*nvidia-container-cli\.no-cgroups/,
        );
        assert.throws(() => parseToolkitSetting("nvidia-container-cli.no-cgroups=yes"), /is not a boolean — use true or false/);
        assert.throws(() => parseToolkitSetting("nvidia-container-runtime.mode"), /needs a value/);
    });

    it("sets the runtime mode as `--set nvidia-container-runtime.mode=<m>` does, and reads it back (issue 16)", () => {
        assert.deepEqual(runtimeModeSetting("jit-cdi"), parseToolkitSetting("nvidia-container-runtime.mode=jit-cdi"));
        const result = renderToolkitConfig(DEFAULT_TOOLKIT_CONFIG, [runtimeModeSetting("jit-cdi")]);
        assert.equal(result.text, DEFAULT_TOOLKIT_CONFIG.replace('mode = "auto"', 'mode = "jit-cdi"'));
        assert.equal(configuredRuntimeMode(result.text), "jit-cdi");
        assert.equal(configuredRuntimeMode(DEFAULT_TOOLKIT_CONFIG.replace('mode = "auto"', '#mode = "auto"')), undefined);
        const added = renderToolkitConfig('[nvidia-ctk]\npath = "nvidia-ctk"\n', [runtimeModeSetting("legacy")]);
        assert.equal(added.text, '[nvidia-ctk]\npath = "nvidia-ctk"\n\n[nvidia-container-runtime]\nmode = "legacy"\n');
    });
});
