import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dockerContainerStep } from "../../../sdk/plan/dockerContainer";

/** A stand-in `docker` that records its arguments, one per line, and answers `inspect` from a file. */
function fakeDocker(dir: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
        path.join(bin, "docker"),
        `#!/bin/sh
echo "$1" >> "${dir}/calls"
case "$1" in
  inspect) [ -f "${dir}/state" ] && cat "${dir}/state" && exit 0; exit 1 ;;
  run) printf '%s\\n' "$@" > "${dir}/run-args"; [ -f "${dir}/run-fails" ] && { echo "docker: Error response from daemon: unknown or invalid runtime name: nvidia" >&2; exit 125; }; exit 0 ;;
  rm) : > "${dir}/removed"; exit 0 ;;
esac
`,
        { mode: 0o755 },
    );
    return bin;
}

describe("docker container step (run with a recording docker)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-step-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const run = (text: string) => spawnSync("sh", ["-c", text], { encoding: "utf8", env: { ...process.env, PATH: `${fakeDocker(dir)}:${process.env.PATH}` } });

    it("passes each argument intact, the --gpus CSV quoted as Docker wants it", () => {
        const step = dockerContainerStep({
            name: "smi",
            image: "nvidia/cuda:12.4.1-base-ubuntu22.04",
            devices: ["0", "1"],
            env: { GREETING: "hello world; $(id)" },
            args: ["nvidia-smi", "-L"],
        });
        const r = run(step.script);
        assert.equal(r.status, 0, r.stderr);
        const args = fs.readFileSync(path.join(dir, "run-args"), "utf8").trimEnd().split("\n");
        assert.deepEqual(args.slice(0, 10), [
            "run",
            "--detach",
            "--name",
            "smi",
            "--restart",
            "unless-stopped",
            "--gpus",
            '"device=0,1","capabilities=compute,utility"',
            "-e",
            "GREETING=hello world; $(id)",
        ]);
        assert.deepEqual(args.slice(-3), ["nvidia/cuda:12.4.1-base-ubuntu22.04", "nvidia-smi", "-L"]);
    });

    it("does nothing when the running container has the same spec, and replaces it otherwise", () => {
        const step = dockerContainerStep({ name: "smi", image: "nvidia/cuda:12.4.1-base-ubuntu22.04" });
        const label = /--label nvidia-gpu\.pulumi\.com\/spec=([0-9a-f]+)/.exec(step.script)![1];
        fs.writeFileSync(path.join(dir, "state"), `${label} true`);
        const same = run(step.script);
        assert.match(same.stdout, /unchanged: container smi/);
        assert.ok(!fs.existsSync(path.join(dir, "run-args")));
        fs.writeFileSync(path.join(dir, "state"), `0000 true`);
        const changed = run(step.script);
        assert.match(changed.stdout, /started container smi/);
        assert.ok(fs.existsSync(path.join(dir, "removed")));
    });

    it("refuses latest, bad devices and bad env names before any script exists", () => {
        assert.throws(() => dockerContainerStep({ name: "x", image: "nvidia/cuda:latest" }), /NVIDIA removed "latest"/);
        assert.throws(() => dockerContainerStep({ name: "x", image: "nvidia/cuda:12.4.1-base-ubuntu22.04", devices: ["0; reboot"] }), /devices\[0\]/);
        assert.throws(
            () => dockerContainerStep({ name: "x", image: "nvidia/cuda:12.4.1-base-ubuntu22.04", env: { "A B": "x" } }),
            /env\.A B: is not a variable name/,
        );
    });

    it("removes the Created container a failed docker run leaves, since a failed create is not in state for destroy (issue 12 bug 11)", () => {
        const step = dockerContainerStep({ name: "smi", image: "nvidia/cuda:12.4.1-base-ubuntu22.04", mode: "runtime" });
        fs.writeFileSync(path.join(dir, "run-fails"), "");
        const r = run(step.script);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /docker run of container smi failed, and the container was removed: .*unknown or invalid runtime name/);
        const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
        assert.deepEqual(calls.slice(-2), ["run", "rm"], "the container is removed after the failed run");
    });
});
