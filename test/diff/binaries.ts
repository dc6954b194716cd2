import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as TOML from "@iarna/toml";
import { plain } from "../../sdk/toml/parseToml";
import { REPO_ROOT } from "../helpers/paths";

/** Built by tools/setup-binaries.sh from the Go module proxy. */
export const BIN_DIR = path.join(REPO_ROOT, ".tmp", "bin");
export const NVIDIA_CTK = path.join(BIN_DIR, "nvidia-ctk");

/** A containerd binary and the config versions it reads (1.x: 2; 2.0–2.2: 2, 3; 2.3+: 2, 3, 4). */
export interface ContainerdBinary {
    label: string;
    bin: string;
    configVersions: number[];
}

/** Every containerd the rendered configs are loaded in: Debian's 1.6, 1.7 and 2.1 (test/tools/setup.sh), and our 2.2–2.4 builds. */
export const CONTAINERDS: ContainerdBinary[] = [
    { label: "1.6", bin: "/usr/bin/containerd", configVersions: [2] },
    { label: "1.7", bin: path.join(REPO_ROOT, ".tmp/containerd/1.7.24/usr/bin/containerd"), configVersions: [2] },
    { label: "2.1", bin: path.join(REPO_ROOT, ".tmp/containerd/2.1/usr/bin/containerd"), configVersions: [2, 3] },
    { label: "2.2", bin: path.join(BIN_DIR, "containerd-2.2"), configVersions: [2, 3] },
    { label: "2.3", bin: path.join(BIN_DIR, "containerd-2.3"), configVersions: [2, 3, 4] },
    { label: "2.4", bin: path.join(BIN_DIR, "containerd-2.4"), configVersions: [2, 3, 4] },
];

/** containerd 2.3.4: the earliest 2.3 the proxy serves, with the check that stopped the AKS nodes of NVIDIA/aicr#1688 (2.3.7 dropped it). */
export const CONTAINERD_2_3_4: ContainerdBinary = { label: "2.3.4", bin: path.join(BIN_DIR, "containerd-2.3.4"), configVersions: [2, 3, 4] };

export function missingBinaries(): string[] {
    return [NVIDIA_CTK, CONTAINERD_2_3_4.bin, ...CONTAINERDS.map((c) => c.bin)].filter((b) => !fs.existsSync(b));
}

export const SETUP_HINT = "run `sh tools/setup-binaries.sh && sh test/tools/setup.sh` first (npm run test:diff does)";

export interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** Runs nvidia-ctk with no toolkit config of the host's (`XDG_CONFIG_HOME` in the case's own folder). */
export function nvidiaCtk(args: string[], dir: string): Run {
    const result = spawnSync(NVIDIA_CTK, args, {
        encoding: "utf8",
        env: { PATH: process.env.PATH, XDG_CONFIG_HOME: path.join(dir, "xdg"), NVIDIA_CTK_DEBUG: "false" },
        timeout: 30000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export type Dump = { ok: true; data: any } | { ok: false; error: string };

/** `containerd --config ROOT config dump`: how containerd itself merges the root file and its imports. */
export function containerdDump(bin: string, root: string): Promise<Dump> {
    return new Promise((resolve) => {
        execFile(bin, ["--config", root, "config", "dump"], { encoding: "utf8", timeout: 30000 }, (error, stdout, stderr) => {
            if (error) return resolve({ ok: false, error: `${stderr.trim()}\n${error.message}`.trim() });
            try {
                const data = plain(TOML.parse(stdout)) as any;
                // containerd 1.6 lists the files it loaded in map order: the set matters, not the order.
                if (Array.isArray(data.imports)) data.imports.sort();
                resolve({ ok: true, data });
            } catch (e) {
                resolve({ ok: false, error: `dump is not TOML: ${(e as Error).message}` });
            }
        });
    });
}

/** `containerd config default` of a binary: each version's own shipped default, as test input. */
export function containerdDefault(bin: string): string {
    return spawnSync(bin, ["config", "default"], { encoding: "utf8" }).stdout;
}

/** containerd ≥ 2.2's default imports the host's /etc/containerd/conf.d: point it into the case's own folder instead. */
export function hermetic(config: string): string {
    return config.replace("'/etc/containerd/conf.d/*.toml'", "'host-conf.d/*.toml'");
}

/** The CRI runtime section in a dump: 1.x keeps it under the grpc CRI plugin, 2.x under the runtime plugin. */
export function criRuntimeOfDump(dump: any): any {
    return dump?.plugins?.["io.containerd.cri.v1.runtime"] ?? dump?.plugins?.["io.containerd.grpc.v1.cri"];
}
