import { strict as assert } from "node:assert";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as TOML from "@iarna/toml";
import { renderContainerdConfig } from "../../sdk/runtime/containerdConfig";
import { NVIDIA_CTK_FIXTURES } from "../helpers/paths";
import {
    CONTAINERDS,
    CONTAINERD_2_3_4,
    ContainerdBinary,
    SETUP_HINT,
    containerdDefault,
    hermetic,
    containerdDump,
    criRuntimeOfDump,
    missingBinaries,
    nvidiaCtk,
} from "./binaries";

/**
 * The drop-in's config version on every containerd from 1.6 to 2.4, with the effective config the way
 * the library gets it on a host (`containerd config dump`), and the outage of NVIDIA/aicr#1688 reproduced
 * with NVIDIA's real nvidia-ctk and containerd 2.3.4.
 */

/** An AKS-like root: version 2, runc with SystemdCgroup, a pinned pause image and a registry mirror (what nutanix…#1613 lost). */
const AKS_LIKE_V2 = `version = 2
oom_score = 0
disabled_plugins = ["io.containerd.nri.v1.nri"]
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "mcr.microsoft.com/oss/kubernetes/pause:3.6"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/bin/runc"
        SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["https://mirror.example.com"]
`;

const fixture = (name: string) => fs.readFileSync(path.join(NVIDIA_CTK_FIXTURES, name), "utf8");

interface Root {
    name: string;
    text: string | undefined;
}

function roots(): Root[] {
    return [
        { name: "no config.toml", text: undefined },
        { name: "AKS-like v2", text: AKS_LIKE_V2 },
        { name: "kubeadm v2 (fixture)", text: fixture("containerd-b-kubeadm-v2-default/input.config.toml") },
        { name: "v3 with CDI (fixture)", text: fixture("containerd-c-v3-cdi/input.config.toml") },
        ...CONTAINERDS.filter((b) => fs.existsSync(b.bin)).map((b) => ({
            name: `containerd ${b.label} config default`,
            text: hermetic(containerdDefault(b.bin)),
        })),
    ];
}

const versionOf = (text: string | undefined) => (text === undefined || text.trim() === "" ? undefined : ((TOML.parse(text) as any).version as number));

function dumpText(bin: string, root: string): string {
    const run = spawnSync(bin, ["--config", root, "config", "dump"], { encoding: "utf8" });
    assert.equal(run.status, 0, `${bin} config dump: ${run.stderr}`);
    return run.stdout;
}

/** containerd's merged view with what the nvidia runtime changes taken out, to compare with the view before. */
function withoutNvidia(dump: any, name: string, setAsDefault: boolean, cdi: boolean): any {
    const copy = structuredClone(dump);
    delete copy.imports;
    const cri = criRuntimeOfDump(copy);
    delete cri.containerd.runtimes[name];
    if (setAsDefault) delete cri.containerd.default_runtime_name;
    if (cdi) delete cri.enable_cdi;
    return copy;
}

describe("containerd 1.6–2.4: the drop-in at the root's config version, with the effective config from `config dump` (NVIDIA/aicr#1688)", function () {
    this.timeout(120000);
    let dir: string;
    before(function () {
        const missing = missingBinaries();
        if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}: ${SETUP_HINT}`);
    });
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "containerd-versions-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const binary of [...CONTAINERDS, CONTAINERD_2_3_4]) {
        for (const root of roots()) {
            const rootVersion = versionOf(root.text);
            if (rootVersion !== undefined && !binary.configVersions.includes(rootVersion)) continue;
            for (const [setAsDefault, enableCdi] of [
                [false, false],
                [true, true],
            ]) {
                it(`containerd ${binary.label}, ${root.name}${setAsDefault ? ", set as default with CDI" : ""}: drop-in at version ${rootVersion ?? "of the dump"}, loads, nothing of the root lost`, async () => {
                    const rootPath = path.join(dir, "config.toml");
                    fs.writeFileSync(rootPath, root.text ?? "");
                    const effectiveConfig = dumpText(binary.bin, rootPath);
                    const before = await containerdDump(binary.bin, rootPath);
                    assert.ok(before.ok);
                    const dropInPath = path.join(dir, "conf.d", "99-nvidia.toml");
                    const result = renderContainerdConfig(root.text, { effectiveConfig, dropInPath, setAsDefault, enableCdi });
                    const expectedVersion = rootVersion ?? versionOf(effectiveConfig);
                    assert.equal(result.version, expectedVersion, "the drop-in's version is the root's");
                    assert.equal((TOML.parse(result.dropIn.text) as any).version, expectedVersion);
                    assert.equal((TOML.parse(result.topLevel.text) as any).version, expectedVersion, "root and drop-in agree");
                    fs.mkdirSync(path.dirname(dropInPath), { recursive: true });
                    fs.writeFileSync(rootPath, result.topLevel.text);
                    fs.writeFileSync(dropInPath, result.dropIn.text);

                    const after = await containerdDump(binary.bin, rootPath);
                    assert.ok(after.ok, `containerd ${binary.label} loads root + drop-in: ${after.ok ? "" : after.error}`);
                    const cri = criRuntimeOfDump(after.data);
                    const nvidia = cri.containerd.runtimes.nvidia;
                    assert.equal(nvidia.runtime_type, "io.containerd.runc.v2", "runtime_type (NVIDIA/nvidia-container-toolkit#1956)");
                    assert.equal(nvidia.options.BinaryName, "/usr/bin/nvidia-container-runtime");
                    assert.equal(
                        nvidia.options.SystemdCgroup ?? false,
                        cri.containerd.runtimes.runc.options?.SystemdCgroup ?? false,
                        "SystemdCgroup as runc's",
                    );
                    assert.equal(cri.containerd.default_runtime_name, setAsDefault ? "nvidia" : "runc");
                    // containerd 2.4 has no enable_cdi (CDI is always on) and 1.6 no CDI at all: where the binary knows the key, it is on.
                    if (enableCdi && criRuntimeOfDump(before.data).enable_cdi !== undefined) assert.equal(cri.enable_cdi, true);
                    assert.deepStrictEqual(
                        withoutNvidia(after.data, "nvidia", setAsDefault, enableCdi),
                        withoutNvidia(before.data, "nvidia", setAsDefault, enableCdi),
                        "everything else in containerd's merged config is as before",
                    );
                });
            }
        }
    }

    /** A stand-in for `containerd` that dumps the case's root with the given binary, for nvidia-ctk's --executable-path. */
    function dumpWrapper(binary: ContainerdBinary, rootPath: string): string {
        const wrapper = path.join(dir, `containerd-${binary.label}`);
        fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(binary.bin)} --config ${JSON.stringify(rootPath)} "$@"\n`, { mode: 0o755 });
        return wrapper;
    }

    it("NVIDIA/aicr#1688: nvidia-ctk with --config-source=command writes a version-4 drop-in over a version-2 root, which containerd 2.3.4 refuses; ours is version 2 and loads", async () => {
        const rootPath = path.join(dir, "config.toml");
        fs.writeFileSync(rootPath, AKS_LIKE_V2);
        const dropInPath = path.join(dir, "conf.d", "99-nvidia.toml");
        const run = nvidiaCtk(
            [
                "runtime",
                "configure",
                "--runtime=containerd",
                `--config=${rootPath}`,
                `--drop-in-config=${dropInPath}`,
                "--config-source=command",
                `--executable-path=${dumpWrapper(CONTAINERD_2_3_4, rootPath)}`,
            ],
            dir,
        );
        assert.equal(run.status, 0, run.stderr);
        const theirs = TOML.parse(fs.readFileSync(dropInPath, "utf8")) as any;
        assert.equal(theirs.version, 4, "nvidia-ctk takes the dump's version");
        assert.equal((TOML.parse(fs.readFileSync(rootPath, "utf8")) as any).version, 2);
        const refused = await containerdDump(CONTAINERD_2_3_4.bin, rootPath);
        assert.ok(
            !refused.ok && /drop-in config version 4 higher than root config version 2/.test(refused.error),
            `containerd 2.3.4 refuses: ${refused.ok ? "it loaded" : refused.error}`,
        );

        fs.writeFileSync(rootPath, AKS_LIKE_V2);
        const effectiveConfig = dumpText(CONTAINERD_2_3_4.bin, rootPath);
        const ours = renderContainerdConfig(AKS_LIKE_V2, { effectiveConfig, dropInPath });
        assert.equal((TOML.parse(ours.dropIn.text) as any).version, 2);
        fs.writeFileSync(rootPath, ours.topLevel.text);
        fs.writeFileSync(dropInPath, ours.dropIn.text);
        for (const binary of [CONTAINERD_2_3_4, ...CONTAINERDS]) {
            const loaded = await containerdDump(binary.bin, rootPath);
            assert.ok(loaded.ok, `containerd ${binary.label} loads ours: ${loaded.ok ? "" : loaded.error}`);
            const cri = criRuntimeOfDump(loaded.data);
            assert.equal(cri.containerd.runtimes.nvidia.options.SystemdCgroup, true, `containerd ${binary.label}: nvidia with runc's SystemdCgroup`);
            const images = loaded.data.plugins["io.containerd.cri.v1.images"] ?? loaded.data.plugins["io.containerd.grpc.v1.cri"];
            assert.deepEqual(
                images.registry.mirrors["docker.io"].endpoint,
                ["https://mirror.example.com"],
                `containerd ${binary.label}: the root's registry mirror kept`,
            );
        }
    });

    /** Starts containerd on a unix socket with its state in the case's folder; resolves with its log once booted or exited. */
    function boot(binary: ContainerdBinary, rootPath: string): Promise<{ booted: boolean; log: string }> {
        return new Promise((resolve) => {
            const child: ChildProcess = spawn(
                binary.bin,
                ["--config", rootPath, "--root", path.join(dir, "root"), "--state", path.join(dir, "state"), "--address", path.join(dir, "containerd.sock")],
                { stdio: ["ignore", "ignore", "pipe"] },
            );
            let log = "";
            const done = (booted: boolean) => {
                clearTimeout(timer);
                child.removeAllListeners();
                if (child.exitCode === null) child.kill("SIGTERM");
                resolve({ booted, log });
            };
            const timer = setTimeout(() => done(false), 20000);
            child.stderr!.on("data", (chunk: Buffer) => {
                log += chunk.toString();
                if (/containerd successfully booted/.test(log)) done(true);
            });
            child.on("exit", () => done(false));
        });
    }

    it("a real containerd 2.3.4 daemon exits on nvidia-ctk's command-source files and boots with ours, its CRI plugin listing the nvidia runtime (unix socket in a temp folder)", async function () {
        if (process.getuid?.() !== 0) this.skip(); // the daemon needs root for its state folders' ownership
        const rootPath = path.join(dir, "config.toml");
        const dropInPath = path.join(dir, "conf.d", "99-nvidia.toml");
        fs.writeFileSync(rootPath, AKS_LIKE_V2);
        const run = nvidiaCtk(
            [
                "runtime",
                "configure",
                "--runtime=containerd",
                `--config=${rootPath}`,
                `--drop-in-config=${dropInPath}`,
                "--config-source=command",
                `--executable-path=${dumpWrapper(CONTAINERD_2_3_4, rootPath)}`,
            ],
            dir,
        );
        assert.equal(run.status, 0, run.stderr);
        const theirs = await boot(CONTAINERD_2_3_4, rootPath);
        assert.equal(theirs.booted, false);
        assert.match(theirs.log, /drop-in config version 4 higher than root config version 2/);

        fs.writeFileSync(rootPath, AKS_LIKE_V2);
        const ours = renderContainerdConfig(AKS_LIKE_V2, {
            effectiveConfig: dumpText(CONTAINERD_2_3_4.bin, rootPath),
            dropInPath,
            setAsDefault: true,
            enableCdi: true,
        });
        fs.writeFileSync(rootPath, ours.topLevel.text);
        fs.writeFileSync(dropInPath, ours.dropIn.text);
        for (const binary of [CONTAINERD_2_3_4, CONTAINERDS.find((b) => b.label === "2.3")!]) {
            const started = await boot(binary, rootPath);
            assert.ok(started.booted, `containerd ${binary.label} boots with our files:\n${started.log.slice(-2000)}`);
            const cri = /msg="starting cri plugin" config="((?:[^"\\]|\\.)*)"/.exec(started.log);
            assert.ok(cri, "the CRI plugin started");
            const config = JSON.parse(JSON.parse(`"${cri[1]}"`));
            assert.equal(config.containerd.defaultRuntimeName, "nvidia");
            assert.equal(config.containerd.runtimes.nvidia.runtimeType, "io.containerd.runc.v2");
            assert.equal(config.containerd.runtimes.nvidia.options.SystemdCgroup, true);
            assert.equal(config.enableCDI ?? config.enable_cdi ?? config.cdiEnabled ?? true, true);
        }
    });
});
