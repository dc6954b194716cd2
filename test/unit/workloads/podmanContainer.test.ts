import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dockerContainerPlan, dockerContainerStep } from "../../../sdk/workloads/dockerContainer";

/** Stand-ins for `podman` and `docker` that record which was called and with what arguments. */
function fakeClis(dir: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    for (const cli of ["podman", "docker"])
        fs.writeFileSync(
            path.join(bin, cli),
            `#!/bin/sh
echo "${cli} $1" >> "${dir}/calls"
echo "\${DOCKER_HOST:-}" > "${dir}/docker-host"
case "$1" in
  inspect) exit 1 ;;
  run) printf '%s\\n' "$@" > "${dir}/run-args"; exit 0 ;;
  rm) exit 0 ;;
esac
`,
            { mode: 0o755 },
        );
    return bin;
}

describe("podman container step (issue 27: CDI devices through Podman)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "podman-step-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const image = "mini:1";
    const run = (text: string, env: Record<string, string> = {}) =>
        spawnSync("sh", ["-c", text], { encoding: "utf8", env: { ...process.env, PATH: `${fakeClis(dir)}:${process.env.PATH}`, ...env } });
    const calls = () => fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");

    it("runs podman, not docker, with CDI devices by default, the capabilities as the variable and the run options", () => {
        const plan = dockerContainerPlan({
            name: "svc",
            image,
            engine: "podman",
            devices: ["0", "1"],
            driverCapabilities: ["compute", "utility"],
            options: { ports: [{ internal: 80, external: 8080 }], shmSize: 1024 },
            args: ["sleep", "1"],
        });
        const r = run(plan.step.script);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(calls(), ["podman inspect", "podman rm", "podman run"]);
        const args = fs.readFileSync(path.join(dir, "run-args"), "utf8").trimEnd().split("\n");
        assert.deepEqual(args.slice(0, 18), [
            "run",
            "--detach",
            "--name",
            "svc",
            "--restart",
            "unless-stopped",
            "--device",
            "nvidia.com/gpu=0",
            "--device",
            "nvidia.com/gpu=1",
            "-e",
            "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
            "--publish",
            "8080:80/tcp",
            "--shm-size",
            "1024m",
            "--label",
            args[17],
        ]);
        assert.match(plan.commandLine, /^podman run --detach --name svc .*--device nvidia\.com\/gpu=0/);
        assert.match(plan.step.description, /podman container svc from mini:1 \(cdi: 0,1\)/);
        const undo = run(plan.step.undoScript!);
        assert.equal(undo.status, 0, undo.stderr);
        assert.deepEqual(calls().slice(-1), ["podman rm"]);
    });

    it("refuses --gpus and the nvidia runtime for Podman, naming the field as the caller calls it and why", () => {
        assert.throws(
            () => dockerContainerStep({ name: "svc", image, engine: "podman", mode: "gpus" }, { mode: "gpuSelection" }),
            /gpuSelection: "gpus" is Docker's: Podman takes NVIDIA GPUs as CDI devices — use cdi \(the node writes the CDI spec\) or none/,
        );
        assert.throws(() => dockerContainerStep({ name: "svc", image, engine: "podman", mode: "runtime" }), /mode: "runtime" is Docker's/);
        assert.throws(
            () => dockerContainerStep({ name: "svc", image, engine: "nerdctl" as "podman" }),
            /engine: "nerdctl" is not supported — use one of: docker, podman/,
        );
        assert.equal(
            dockerContainerPlan({ name: "svc", image, engine: "podman", mode: "none" }).commandLine,
            "podman run --detach --name svc --restart unless-stopped mini:1",
        );
    });

    it("runs a rootless user's podman as that user, without DOCKER_HOST", () => {
        const step = dockerContainerStep({ name: "svc", image, engine: "podman", rootlessUser: "alice" });
        assert.equal(step.runAs, "alice");
        assert.equal(step.root, false);
        const r = run(step.script, { DOCKER_HOST: "" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.readFileSync(path.join(dir, "docker-host"), "utf8").trim(), "");
        assert.doesNotMatch(step.script + step.undoScript!, /DOCKER_HOST/);
    });

    it("a change of engine replaces the container (the label's checksum covers it)", () => {
        const label = (s: string) => /want=(\S+)/.exec(s)![1];
        assert.notEqual(
            label(dockerContainerStep({ name: "svc", image, mode: "cdi" }).script),
            label(dockerContainerStep({ name: "svc", image, mode: "cdi", engine: "podman" }).script),
        );
    });
});
