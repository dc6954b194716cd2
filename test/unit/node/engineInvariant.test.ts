import { createHash } from "node:crypto";
import { serverFacts } from "../../helpers/serverFacts";
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostSnapshot, parseSnapshot, snapshotScript } from "../../../sdk/host/snapshot";
import { backupPath } from "../../../sdk/steps/fileStep";
import { guardedFileStep, revisionOf } from "../../../sdk/steps/guardedFileStep";
import { nodePlan } from "../../../sdk/node/nodePlan";
import { PlanStep } from "../../../sdk/steps/planStep";
import { cdiSpecStep } from "../../../sdk/toolkit/toolkitSteps";
import { DOCKER_SERVICE } from "../../../sdk/runtime/docker";
import { restartStep } from "../../../sdk/runtime/restartStep";
import { renderDockerConfig } from "../../../sdk/runtime/dockerDaemonJson";
import { renderContainerdConfig } from "../../../sdk/runtime/containerdConfig";
import { probeFixture } from "../../helpers/paths";

function run(scriptText: string, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("sh", ["-c", scriptText], { encoding: "utf8", env });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The engine re-runs a remote.Command only when its inputs change. These tests play the engine's part:
 * a step "runs" only when its script differs from the last applied one, on real files read back with the
 * real snapshot script.
 */
describe("the engine invariant: converged → identical inputs, drifted → the repairing steps differ (issue 12)", () => {
    let dir: string;
    let target: string;
    const original = '{\n  "bridge": "none"\n}\n';
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "invariant-"));
        target = path.join(dir, "daemon.json");
        fs.writeFileSync(target, original);
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(path.dirname(backupPath(target, false)), { recursive: true, force: true });
    });

    /** The host as the real snapshot script reads it (its probe part is not needed here). */
    function read(): HostSnapshot {
        const full = snapshotScript([{ path: target }]);
        const text = `#!/bin/sh\nset -eu\n${full.slice(full.indexOf("echo '--- pulumi-nvidia-gpu files ---'"))}`;
        const out = run(text);
        assert.equal(out.status, 0, out.stderr);
        return parseSnapshot(`${probeFixture("debian12-no-gpu.json")}\n${out.stdout}`, "test");
    }
    function plan(): { write: PlanStep; restart: PlanStep } {
        const snapshot = read();
        const result = renderDockerConfig(snapshot.files[target], { path: target, setAsDefault: true });
        return {
            write: guardedFileStep("docker-daemon-json", "test", result, snapshot),
            restart: restartStep(DOCKER_SERVICE, [result], revisionOf([result], snapshot)),
        };
    }

    it("a hand revert to the pre-apply bytes changes the write's and the restart's inputs (bug 1), and the repaired host is converged again", () => {
        const first = plan();
        assert.equal(run(first.write.script).status, 0);
        const converged = plan();
        assert.equal(converged.write.script, first.write.script, "converged: the write's inputs are those last applied");
        assert.equal(converged.restart.script, first.restart.script, "converged: the restart's inputs are those last applied");

        fs.writeFileSync(target, original); // the hand revert
        const drifted = plan();
        assert.notEqual(drifted.write.script, first.write.script, "drifted: the repairing write differs, so the engine runs it");
        assert.notEqual(drifted.restart.script, first.restart.script, "drifted: the restart after the repair differs too");
        const repair = run(drifted.write.script);
        assert.equal(repair.status, 0, repair.stderr);
        assert.match(repair.stdout, /^changed /);

        const again = plan();
        assert.equal(again.write.script, drifted.write.script, "after the repair: converged, identical to the repair's inputs");
        assert.equal(again.restart.script, drifted.restart.script);

        fs.writeFileSync(target, original); // a second revert needs yet another generation
        assert.notEqual(plan().write.script, drifted.write.script);
    });

    it("the restart's undo drops its stamp, so a create after destroy restarts again (bug 2)", () => {
        const step = restartStep(DOCKER_SERVICE, [renderDockerConfig(original, { setAsDefault: true })]);
        assert.match(step.undoScript ?? "", /rm -f \/var\/lib\/pulumi-nvidia-gpu\/restarted\/docker/);
    });

    it("a restart on a host without systemd fails and puts the previous file back instead of reporting a restart (bug 10)", () => {
        const fakeBin = path.join(dir, "bin");
        fs.mkdirSync(fakeBin);
        // docker info answers (the old daemon), dockerd validates, but there is no systemd as PID 1 here.
        fs.writeFileSync(path.join(fakeBin, "docker"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        const result = renderDockerConfig(original, { path: target, setAsDefault: true });
        const write = guardedFileStep("docker-daemon-json", "test", result, read());
        assert.equal(run(write.script).status, 0);
        const step = restartStep(DOCKER_SERVICE, [result]);
        const stamp = "/var/lib/pulumi-nvidia-gpu/restarted/docker";
        const hadStamp = fs.existsSync(stamp) ? fs.readFileSync(stamp) : undefined;
        const script = step.script
            .replace(/\/var\/lib\/pulumi-nvidia-gpu\/backup\/etc\/docker\/daemon\.json/g, backupPath(target, false))
            .replace(/^stamp=.*$/m, `stamp=${dir}/stamp`);
        const out = run(script.replace("service=docker", "service=docker\nPATH=" + fakeBin + ":$PATH"), { ...process.env });
        assert.notEqual(out.status, 0, "no restart happened, so the step must fail");
        assert.doesNotMatch(out.stdout, /restarted/);
        assert.match(out.stderr, /does not run systemd|was not restarted/);
        assert.equal(fs.existsSync(`${dir}/stamp`), false, "no stamp for a restart that never happened");
        if (hadStamp !== undefined) fs.writeFileSync(stamp, hadStamp);
    });

    it("a no-op CDI run leaves no temp spec behind and cleans up those an earlier run leaked (bug 6)", () => {
        const fakeBin = path.join(dir, "bin");
        fs.mkdirSync(fakeBin);
        fs.writeFileSync(
            path.join(fakeBin, "nvidia-ctk"),
            '#!/bin/sh\nif [ "$1 $2" = "cdi generate" ]; then out=${3#--output=}; printf "cdiVersion: 0.5.0\\nkind: nvidia.com/gpu\\n" > "$out"; fi\nif [ "$1 $2" = "cdi list" ]; then echo nvidia.com/gpu=all; fi\n',
            { mode: 0o755 },
        );
        fs.writeFileSync(path.join(fakeBin, "systemctl"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        const output = path.join(dir, "cdi", "nvidia.yaml");
        fs.mkdirSync(path.dirname(output));
        fs.writeFileSync(`${output}.AbC123.yaml`, "leaked by an older version");
        // The step only writes into CDI folders: run it against a temp folder by changing its one output line.
        const real = cdiSpecStep();
        const step = {
            script: real.script.replace(/^output=.*$/m, `output=${output}`),
            undoScript: real.undoScript!.replace(/^output=.*$/m, `output=${output}`),
        };
        const env = { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` };
        const marker = "/var/lib/pulumi-nvidia-gpu/cdi-spec-written";
        const hadMarker = fs.existsSync(marker) ? fs.readFileSync(marker) : undefined;
        try {
            assert.match(run(step.script, env).stdout, /changed/);
            const second = run(step.script, env);
            assert.equal(second.status, 0, second.stderr);
            assert.match(second.stdout, /unchanged/);
            assert.deepEqual(fs.readdirSync(path.dirname(output)), ["nvidia.yaml"], "only the spec itself: no temp files");
            assert.match(run(step.undoScript!, env).stdout, /removed/);
            assert.deepEqual(fs.readdirSync(path.dirname(output)), [], "destroy removes the spec it wrote");
        } finally {
            if (hadMarker !== undefined) fs.writeFileSync(marker, hadMarker);
            else fs.rmSync(marker, { force: true });
        }
    });
});

describe("plans of converged hosts (issue 12)", () => {
    const facts = serverFacts();

    it("compares the containerd drop-in with the live file, so an applied drop-in previews as unchanged (bug 3)", () => {
        const config = "version = 2\n";
        const first = renderContainerdConfig(config, {});
        const applied = renderContainerdConfig(first.topLevel.text, { currentDropIn: first.dropIn.text });
        assert.equal(applied.dropIn.changed, false);
        const snapshot = (dropIn: string | undefined): HostSnapshot => ({
            facts,
            containerdDump: undefined,
            generations: {},
            editedByNvidiaCtk: [],
            files: {
                "/etc/containerd/config.toml": first.topLevel.text,
                "/etc/containerd/conf.d/99-nvidia.toml": dropIn,
                "/etc/nvidia-container-runtime/config.toml": undefined,
            },
            priorWrites: { "/etc/containerd/config.toml": config, "/etc/containerd/conf.d/99-nvidia.toml": undefined },
        });
        const planned = nodePlan(snapshot(first.dropIn.text), { runtime: "containerd", toolkit: { version: "1.20.0-1" } });
        assert.equal(planned.files.find((f) => f.path.endsWith("99-nvidia.toml"))!.changed, false);
    });

    it("a rootless node whose toolkit config nvidia-ctk created and edited plans that same step again once converged (bug 4)", () => {
        const base = { facts, containerdDump: undefined, priorWrites: {}, generations: {} };
        // Legacy mode: the one where rootless Docker needs the host-wide no-cgroups (nodePlan.runtimeToolkitSettings).
        const spec = { runtime: "docker-rootless" as const, rootlessUser: "alice", toolkit: { version: "1.20.0-1", mode: "legacy" } };
        const rootless = {
            "/home/alice/.config/docker/daemon.json":
                '{\n  "runtimes": {\n    "nvidia": {\n      "args": [],\n      "path": "nvidia-container-runtime"\n    }\n  }\n}\n',
        };
        const fresh = nodePlan({ ...base, files: { "/etc/nvidia-container-runtime/config.toml": undefined, ...rootless }, editedByNvidiaCtk: [] }, spec);
        const onHost = fresh.plan.steps.find((s) => s.name === "toolkit-config")!;
        const edited = '[nvidia-container-cli]\nno-cgroups = true\n\n[nvidia-container-runtime]\nmode = "legacy"\n';
        const later = nodePlan(
            {
                ...base,
                files: { "/etc/nvidia-container-runtime/config.toml": edited, ...rootless },
                editedByNvidiaCtk: ["/etc/nvidia-container-runtime/config.toml"],
            },
            spec,
        );
        const step = later.plan.steps.find((s) => s.name === "toolkit-config")!;
        assert.equal(step.script, onHost.script, "same inputs as the step that ran: nothing to update");
        assert.ok(
            later.files.some((f) => f.path === "/etc/nvidia-container-runtime/config.toml"),
            "the toolkit config is in the plan's files, so previews show it",
        );
        const drifted = nodePlan(
            {
                ...base,
                files: { "/etc/nvidia-container-runtime/config.toml": "[nvidia-container-cli]\n", ...rootless },
                editedByNvidiaCtk: ["/etc/nvidia-container-runtime/config.toml"],
            },
            spec,
        );
        assert.notEqual(drifted.plan.steps.find((s) => s.name === "toolkit-config")!.script, onHost.script, "drift is repaired by a rendered write");
    });

    it("previews the repository definition against the live file and guards its write (bug 5)", () => {
        const handEdited = "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://mirror.example/stable/deb/$(ARCH) /\n";
        const snapshot: HostSnapshot = {
            facts,
            containerdDump: undefined,
            priorWrites: {},
            generations: {},
            editedByNvidiaCtk: [],
            files: {
                "/etc/apt/sources.list.d/nvidia-container-toolkit.list": handEdited,
                "/etc/docker/daemon.json": "{}\n",
                "/etc/nvidia-container-runtime/config.toml": undefined,
            },
        };
        const planned = nodePlan(snapshot, { runtime: "docker", toolkit: { version: "1.20.0-1" } });
        const repo = planned.files.find((f) => f.path === "/etc/apt/sources.list.d/nvidia-container-toolkit.list")!;
        assert.equal(repo.previous, handEdited, "the preview diffs against the live file");
        const step = planned.plan.steps.find((s) => s.name === "toolkit-repo")!;
        assert.match(
            step.script,
            new RegExp(`expected=${createHash("sha256").update(handEdited).digest("hex")}`),
            "the write is refused if the file changes after the preview",
        );
    });
});

describe("the containerd drop-in rendered from the effective config is a fixed point (found by the fault matrix)", () => {
    it("a default once set to nvidia by another stack, then unset, renders the same drop-in before and after containerd reloads it", () => {
        const root = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  default_runtime_name = "runc"\n';
        const dump = (defaultName: string) =>
            `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  default_runtime_name = "${defaultName}"\n` +
            '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n' +
            '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]\n  runtime_type = "io.containerd.runc.v2"\n';
        // The other stack left nvidia as the default; this one does not ask for it.
        const first = renderContainerdConfig(root, { effectiveConfig: dump("nvidia") });
        assert.match(first.dropIn.text, /default_runtime_name = "runc"/);
        // containerd reloads: its dump now shows runc as the default, and the next render must be identical.
        const second = renderContainerdConfig(root, { effectiveConfig: dump("runc"), currentDropIn: first.dropIn.text });
        assert.equal(second.dropIn.text, first.dropIn.text);
        assert.equal(second.dropIn.changed, false);
    });
});

describe("the CRI-O drop-in is compared with the live file (found by the fault matrix's crio node)", () => {
    const facts = serverFacts();
    const crioConf = '[crio.runtime]\ndefault_runtime = "runc"\n[crio.runtime.runtimes.runc]\nruntime_path = "/usr/sbin/runc"\nruntime_type = "oci"\n';
    const dropIn = "/etc/crio/crio.conf.d/99-nvidia.toml";
    const snapshot = (live: string | undefined, wroteBefore: boolean): HostSnapshot => ({
        facts,
        containerdDump: undefined,
        generations: {},
        editedByNvidiaCtk: [],
        files: { "/etc/crio/crio.conf": crioConf, [dropIn]: live, "/etc/nvidia-container-runtime/config.toml": undefined },
        priorWrites: wroteBefore ? { [dropIn]: undefined } : {},
    });
    const spec = { runtime: "crio" as const, toolkit: { version: "1.20.0-1" } };

    it("an applied drop-in previews as unchanged with the applied inputs; one edited by hand after the apply is a drift", () => {
        const first = nodePlan(snapshot(undefined, false), spec);
        const written = first.files.find((f) => f.path === dropIn)!;
        assert.equal(written.changed, true);
        const converged = nodePlan(snapshot(written.text, true), spec);
        assert.equal(converged.files.find((f) => f.path === dropIn)!.changed, false, "the live drop-in is what the plan renders");
        for (const name of ["crio-drop-in", "crio-restart", "verify-runtimes"]) {
            const before = first.plan.steps.find((s) => s.name === name)!;
            const after = converged.plan.steps.find((s) => s.name === name)!;
            assert.equal(after.script, before.script, `${name}: the converged host's inputs are the applied ones`);
        }
        const drifted = nodePlan(snapshot(written.text.replace("oci", "vm"), true), spec);
        assert.equal(drifted.files.find((f) => f.path === dropIn)!.changed, true);
    });
});
