import { serverDocker, serverFacts } from "../../helpers/serverFacts";
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { HostSnapshot } from "../../../sdk/host/snapshot";
import { invocationFor } from "../../../sdk/steps/invocation";
import { withSharedHelpers } from "../../../sdk/steps/sharedHelpers";
import { withStateCleanup } from "../../../sdk/steps/stateCleanup";
import { nodePlan } from "../../../sdk/node/nodePlan";
import { renderDockerConfig } from "../../../sdk/runtime/dockerDaemonJson";
import { FakeHostReader, Recorded, installMocks, isSecret, settle, valueOf } from "../../helpers/pulumiMocks";

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRET-KEY-MATERIAL\n-----END OPENSSH PRIVATE KEY-----";
const EXISTING = '{\n  "log-driver": "journald",\n  "bridge": "none"\n}\n';

function h100Snapshot(files: Record<string, string | undefined> = { "/etc/docker/daemon.json": EXISTING }, priorWrites = {}): HostSnapshot {
    const facts = serverFacts();
    facts.docker = serverDocker();
    return { facts, files: { "/etc/nvidia-container-runtime/config.toml": undefined, ...files }, priorWrites, containerdDump: undefined };
}

/** Loads the components only after the mocks are in place. */
function components() {
    return require("../../../index") as typeof import("../../../index");
}

describe("GpuNode (pulumi mocks)", () => {
    let recorded: Recorded[];
    let infos: string[];
    const realInfo = pulumi.log.info;
    beforeEach(() => {
        infos = [];
        (pulumi.log as any).info = (msg: string) => {
            infos.push(msg);
            return Promise.resolve();
        };
    });
    afterEach(() => ((pulumi.log as any).info = realInfo));

    it("creates one remote.Command per plan step, in order, parented to the node, running the sdk plan's exact scripts", async () => {
        recorded = installMocks(true);
        const { GpuNode, ContainerRuntime } = components();
        const snapshot = h100Snapshot();
        const node = new GpuNode(
            "gpu-1",
            {
                connection: { host: "10.0.0.5".replace(/.*/, "gpu-1.example"), privateKey: PRIVATE_KEY },
                runtime: ContainerRuntime.Docker,
                driver: { branch: "580" },
            },
            { hostReader: new FakeHostReader(snapshot) },
        );
        const steps = await valueOf(node.steps);
        await settle();
        // The sdk plan as planOnHost sends it: undos end with the state cleanup, and the steps source one helpers file.
        const sdkSteps = nodePlan(snapshot, { runtime: "docker", driver: { branch: "580" }, toolkit: { version: "1.20.0-1" } }).plan.steps;
        const expected = withSharedHelpers(withStateCleanup(sdkSteps), "gpu-1", snapshot);
        assert.equal(expected[0].name, "helpers");
        assert.deepEqual(
            steps,
            expected.map((s) => s.name),
        );
        const commands = recorded.filter((r) => r.type === "command:remote:Command");
        assert.deepEqual(
            commands.map((c) => c.name),
            expected.map((s) => `gpu-1-${s.name}`),
        );
        commands.forEach((c, i) => {
            assert.equal(c.inputs.create, invocationFor(expected[i], "root", "root").command, `${c.name} runs the sdk script`);
            assert.equal(c.inputs.stdin, expected[i].script, `${c.name} sends the sdk script on stdin`);
        });
        assert.equal(recorded.filter((r) => r.type === "nvidia-gpu:index:GpuNode").length, 1);
        const urn = await valueOf((node as any).urn as pulumi.Output<string>);
        assert.match(urn, /nvidia-gpu:index:GpuNode::gpu-1$/);
        assert.equal(await valueOf(node.driverVersion), "580.159.04");
        // rebootPending waits for the verify step's stdout, which a preview does not have (see components.test.ts for an update).
        assert.deepEqual(await valueOf(node.gpus), [
            { index: 0, name: "NVIDIA H100 80GB HBM3", uuid: "GPU-90b19bec-097c-6e10-2830-1005b2cfa1ed", memoryMiB: 81559 },
        ]);
        assert.equal(await valueOf(node.dockerHost), "ssh://root@gpu-1.example");
    });

    it("keeps the private key out of every script and the sudo password on stdin, both secret", async () => {
        recorded = installMocks(true);
        const { GpuNode } = components();
        const snapshot = h100Snapshot();
        snapshot.facts.user = { name: "ops", uid: 1000, sudo: "password" };
        const node = new GpuNode(
            "gpu-2",
            { connection: { host: "gpu-2", user: "ops", privateKey: PRIVATE_KEY, sudoPassword: "s3cret-sudo" } },
            { hostReader: new FakeHostReader(snapshot) },
        );
        await valueOf(node.steps);
        await settle();
        const commands = recorded.filter((r) => r.type === "command:remote:Command");
        assert.ok(commands.length > 5);
        for (const c of commands) {
            const stdin = c.inputs.stdin;
            const script = typeof stdin === "string" ? stdin : (stdin?.value ?? "").replace(/^s3cret-sudo\n/, "");
            const text = `${c.inputs.create}\n${c.inputs.delete ?? ""}\n${script}`;
            assert.ok(!text.includes("SECRET-KEY-MATERIAL"), `${c.name}: no key in scripts`);
            assert.ok(!text.includes("s3cret-sudo"), `${c.name}: no sudo password in scripts`);
        }
        const rootStep = commands.find((c) => c.name === "gpu-2-toolkit-packages")!;
        assert.match(rootStep.inputs.create, /^sudo -S -p '' sh -c /);
        // Pulumi's wire form of a secret: the signature key marks it, so it is encrypted in state.
        const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
        assert.equal(
            rootStep.inputs.stdin["4dabf18193072939515e22adb298388d"],
            SECRET["4dabf18193072939515e22adb298388d"],
            "stdin, which starts with the password, is secret",
        );
        assert.ok(rootStep.inputs.stdin.value.startsWith("s3cret-sudo\n#!/bin/sh\n"), "the password line comes first, then the script");
        assert.equal(
            rootStep.inputs.connection["4dabf18193072939515e22adb298388d"],
            SECRET["4dabf18193072939515e22adb298388d"],
            "the whole connection is secret",
        );
        assert.equal(rootStep.inputs.connection.value.privateKey, PRIVATE_KEY);
        assert.equal(rootStep.inputs.logging, "stdoutAndStderr");
    });

    it("reads the live file through the injected reader, merges into it and reports the diff", async () => {
        recorded = installMocks(true);
        const { GpuNode } = components();
        const reader = new FakeHostReader(h100Snapshot());
        const node = new GpuNode("gpu-3", { connection: { host: "gpu-3" }, setAsDefault: true }, { hostReader: reader });
        await valueOf(node.steps);
        await settle();
        assert.deepEqual(
            reader.asked[0].map((f) => f.path),
            [
                "/etc/nvidia-container-runtime/config.toml",
                "/etc/apt/sources.list.d/nvidia-container-toolkit.list",
                "/etc/yum.repos.d/nvidia-container-toolkit.repo",
                "/etc/zypp/repos.d/nvidia-container-toolkit.repo",
                "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg",
                "/etc/pki/rpm-gpg/RPM-GPG-KEY-nvidia-container-toolkit",
                "/etc/docker/daemon.json",
                "/var/lib/pulumi-nvidia-gpu/lib/gpu-3.sh", // the shared helpers (read for its checksum only)
            ],
        );
        const write = recorded.find((r) => r.name === "gpu-3-docker-daemon-json")!;
        const merged = renderDockerConfig(EXISTING, { setAsDefault: true }).text;
        assert.ok(write.inputs.stdin.includes(merged.trimEnd().split("\n").join("\n")), "the script carries the merged file verbatim");
        assert.ok(merged.includes('"log-driver": "journald"'));
        const report = infos.find((m) => m.includes("/etc/docker/daemon.json will change"))!;
        assert.match(report, /\+  "default-runtime": "nvidia"/);
        assert.match(report, /^ {3}"log-driver": "journald",$/m);
    });

    it("says at preview that an unknown host's plan is computed at apply, and creates no command", async () => {
        recorded = installMocks(true);
        const { GpuNode } = components();
        class Vm extends pulumi.CustomResource {
            declare readonly ip: pulumi.Output<string>;
            constructor(name: string) {
                super("test:index:Vm", name, { ip: undefined });
            }
        }
        const vm = new Vm("vm");
        const reader = new FakeHostReader(h100Snapshot());
        new GpuNode("gpu-4", { connection: { host: vm.ip } }, { hostReader: reader });
        await settle(200);
        assert.equal(reader.asked.length, 0, "nothing read");
        assert.equal(recorded.filter((r) => r.type === "command:remote:Command").length, 0);
        assert.ok(
            infos.some((m) => /gpu-4: the host is not known until apply, so its files and scripts will be computed at apply/.test(m)),
            infos.join("\n"),
        );
    });

    it("fails with the preflight reason before any command exists", async () => {
        recorded = installMocks(true);
        const { GpuNode } = components();
        const snapshot = h100Snapshot();
        snapshot.facts.docker!.serverVersion = "18.06.3";
        const node = new GpuNode("gpu-5", { connection: { host: "gpu-5" } }, { hostReader: new FakeHostReader(snapshot) });
        const outcome = await new Promise<string>((resolve) => {
            (node.steps as any).promise().then(
                () => resolve("ok"),
                (e: Error) => resolve(e.message),
            );
        });
        assert.match(outcome, /Docker 18\.06\.3 is older than 18\.09/);
        assert.equal(recorded.filter((r) => r.type === "command:remote:Command").length, 0);
    });

    it("re-planning an applied host gives identical command inputs (no diff, no restart); a changed setting changes the restart", async () => {
        const first = nodePlan(h100Snapshot(), { runtime: "docker", toolkit: { version: "1.20.0-1" } });
        const written = first.files.find((f) => f.path === "/etc/docker/daemon.json")!.text;
        const applied = nodePlan(h100Snapshot({ "/etc/docker/daemon.json": written }, { "/etc/docker/daemon.json": EXISTING }), {
            runtime: "docker",
            toolkit: { version: "1.20.0-1" },
        });
        assert.deepEqual(
            applied.plan.steps.map((s) => s.script),
            first.plan.steps.map((s) => s.script),
        );
        assert.equal(applied.files.find((f) => f.path === "/etc/docker/daemon.json")!.changed, false);
        const changed = nodePlan(h100Snapshot({ "/etc/docker/daemon.json": written }, { "/etc/docker/daemon.json": EXISTING }), {
            runtime: "docker",
            setAsDefault: true,
            toolkit: { version: "1.20.0-1" },
        });
        const restart = (p: typeof first) => p.plan.steps.find((s) => s.name === "docker-restart")!.script;
        assert.equal(restart(applied), restart(first));
        assert.notEqual(restart(changed), restart(first));
    });

    it("marks stdin and connection as secret outputs", async () => {
        installMocks(false);
        const { GpuNode } = components();
        const snapshot = h100Snapshot();
        snapshot.facts.user = { name: "ops", uid: 1000, sudo: "password" };
        const node = new GpuNode(
            "gpu-6",
            { connection: { host: "gpu-6", user: "ops", privateKey: PRIVATE_KEY, sudoPassword: "pw" } },
            { hostReader: new FakeHostReader(snapshot) },
        );
        await valueOf(node.steps);
        const { remote } = require("@pulumi/command");
        // The commands are children of the node; find one through the registered resources.
        const children: any[] = (node as any).__childResources ? [...(node as any).__childResources] : [];
        const command = children.find((c) => c instanceof remote.Command);
        if (command) {
            assert.equal(await isSecret(command.stdin), true);
            assert.equal(await isSecret(command.connection), true);
        } else {
            assert.fail("the node's commands are registered as its children");
        }
    });
});
