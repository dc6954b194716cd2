import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as TOML from "@iarna/toml";
import { renderContainerdConfig } from "../../../sdk/runtime/containerdConfig";
import { NVIDIA_CTK_FIXTURES, REPO_ROOT } from "../../helpers/paths";

/**
 * Loads rendered configs into real containerd binaries (`containerd --config FILE config dump`),
 * which is how containerd itself merges imports. Debian's containerd (1.6) comes from .ci/run;
 * 1.7 and 2.1 from test/tools/fetch-containerd.sh.
 */
const BINARIES = [
    { label: "1.6 (bookworm)", bin: "/usr/bin/containerd", major: 1 },
    { label: "1.7", bin: path.join(REPO_ROOT, ".tmp/containerd/1.7.24/usr/bin/containerd"), major: 1 },
    { label: "2.1", bin: path.join(REPO_ROOT, ".tmp/containerd/2.1/usr/bin/containerd"), major: 2 },
];

const fixture = (name: string) => fs.readFileSync(path.join(NVIDIA_CTK_FIXTURES, name), "utf8");

const INPUTS: Array<{ name: string; text: string | undefined; version: number }> = [
    { name: "no config.toml", text: undefined, version: 2 },
    { name: "kubeadm-like v2 (SystemdCgroup = true)", text: fixture("containerd-b-kubeadm-v2-default/input.config.toml"), version: 2 },
    { name: "v2 with other imports", text: fixture("containerd-d-v2-imports/input.config.toml"), version: 2 },
    { name: "v3 (containerd 2.x)", text: fixture("containerd-c-v3-cdi/input.config.toml"), version: 3 },
];

function dump(bin: string, topLevel: string): any {
    const out = execFileSync(bin, ["--config", topLevel, "config", "dump"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return TOML.parse(out);
}

function criRuntimeSection(effective: any, major: number): any {
    return major === 1 ? effective.plugins["io.containerd.grpc.v1.cri"] : effective.plugins["io.containerd.cri.v1.runtime"];
}

/** Every leaf of `input` (but version and imports) at the same path in `effective`. */
function assertLeavesKept(input: any, effective: any, where = ""): void {
    for (const [key, value] of Object.entries(input)) {
        if (where === "" && (key === "version" || key === "imports")) continue;
        const at = `${where}.${key}`;
        if (value !== null && typeof value === "object" && !Array.isArray(value)) assertLeavesKept(value, effective?.[key], at);
        else assert.deepEqual(effective?.[key], value, `setting ${at} kept`);
    }
}

describe("containerd loads the rendered files (real binaries)", function () {
    this.timeout(120000);
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerd-render-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    function writeRendered(input: string | undefined, options = {}): string {
        // The fixture imports /etc/containerd/extra.toml: point it at a real file of the test's own.
        fs.writeFileSync(path.join(dir, "extra.toml"), "version = 2\noom_score = -500\n");
        input = input?.replace("/etc/containerd/extra.toml", path.join(dir, "extra.toml"));
        const dropInPath = path.join(dir, "conf.d", "99-nvidia.toml");
        const result = renderContainerdConfig(input, { dropInPath, ...options });
        fs.mkdirSync(path.dirname(dropInPath), { recursive: true });
        fs.writeFileSync(path.join(dir, "config.toml"), result.topLevel.text);
        fs.writeFileSync(dropInPath, result.dropIn.text);
        return path.join(dir, "config.toml");
    }

    for (const { label, bin, major } of BINARIES) {
        it(`containerd ${label} is installed`, () => {
            assert.ok(fs.existsSync(bin), `${bin} is missing: run .ci/run (Debian's containerd, test/tools/fetch-containerd.sh)`);
        });
        for (const input of INPUTS) {
            if (input.version === 3 && major === 1) continue; // 1.x reads only versions 1 and 2
            for (const setAsDefault of [false, true]) {
                it(`containerd ${label}: ${input.name}${setAsDefault ? ", set as default" : ""}: nvidia runtime with runc's options, nothing lost`, () => {
                    const effective = dump(bin, writeRendered(input.text, { setAsDefault, enableCdi: true }));
                    const cri = criRuntimeSection(effective, major);
                    const runtimes = cri.containerd.runtimes;
                    assert.equal(runtimes.nvidia.options.BinaryName, "/usr/bin/nvidia-container-runtime");
                    assert.equal(runtimes.nvidia.runtime_type, "io.containerd.runc.v2");
                    assert.ok(runtimes.runc, "runc is still a runtime");
                    assert.equal(runtimes.nvidia.options.SystemdCgroup ?? false, runtimes.runc.options?.SystemdCgroup ?? false, "SystemdCgroup as runc's");
                    const defaultName = cri.containerd.default_runtime_name;
                    assert.equal(defaultName, setAsDefault ? "nvidia" : "runc");
                    assert.ok(runtimes[defaultName], `the default runtime ${defaultName} exists, so the CRI plugin loads`);
                    if (input.text !== undefined && input.version === (major === 1 ? 2 : 3)) {
                        const data = TOML.parse(input.text) as any;
                        if (!setAsDefault) assertLeavesKept(data, effective);
                    }
                    if (major === 2) assert.equal(cri.enable_cdi, true);
                });
            }
        }
    }

    it("nvidia-ctk's own drop-in for a missing config loses runc on containerd 1.7 (§11 #20), ours keeps it", () => {
        const bin = BINARIES[1].bin;
        const conf = path.join(dir, "conf.d");
        fs.mkdirSync(conf);
        fs.writeFileSync(path.join(conf, "99-nvidia.toml"), fixture("containerd-a-missing/expected.99-nvidia.toml"));
        fs.writeFileSync(path.join(dir, "config.toml"), `imports = [${JSON.stringify(conf + "/*.toml")}]\nversion = 2\n`);
        const theirs = dump(bin, path.join(dir, "config.toml")).plugins["io.containerd.grpc.v1.cri"].containerd.runtimes;
        assert.equal(theirs.runc, undefined, "nvidia-ctk's drop-in hides runc");
        const ours = dump(bin, writeRendered(undefined)).plugins["io.containerd.grpc.v1.cri"].containerd.runtimes;
        assert.ok(ours.runc && ours.nvidia);
    });
});
