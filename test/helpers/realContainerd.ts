import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { HostSnapshot } from "../../sdk/host/snapshot";
import { CONTAINERD_CONFIG, CONTAINERD_DROP_IN, renderContainerdConfig } from "../../sdk/runtime/containerdConfig";
import { REPO_ROOT } from "./paths";
import { serverFacts } from "./serverFacts";

/** Debian's real containerd binary of that version, unpacked by test/tools/fetch-containerd.sh (1.7.24, 2.1). */
export function realContainerd(version: string): string {
    const binary = path.join(REPO_ROOT, ".tmp/containerd", version, "usr/bin/containerd");
    if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: run test/tools/fetch-containerd.sh`);
    return binary;
}

/**
 * The plan's containerd files as applied (setAsDefault) in `dir`, a later drop-in beside them (`99-zz-machine.toml`,
 * made from the plan's own drop-in text), and the snapshot a host with those files gives: its `containerdDump` is
 * what the real binary loads from them.
 */
export function appliedContainerdSnapshot(dir: string, binary: string, laterDropIn: (ours: string) => string): HostSnapshot {
    const conf = path.join(dir, "conf.d");
    const result = renderContainerdConfig(undefined, { dropInPath: path.join(conf, "99-nvidia.toml"), setAsDefault: true });
    fs.mkdirSync(conf, { recursive: true });
    fs.writeFileSync(path.join(dir, "config.toml"), result.topLevel.text);
    fs.writeFileSync(path.join(conf, "99-nvidia.toml"), result.dropIn.text);
    fs.writeFileSync(path.join(conf, "99-zz-machine.toml"), laterDropIn(result.dropIn.text));
    const dump = execFileSync(binary, ["--config", path.join(dir, "config.toml"), "config", "dump"], { encoding: "utf8" });
    return {
        facts: serverFacts(),
        files: { [CONTAINERD_CONFIG]: result.topLevel.text.replace(conf, "/etc/containerd/conf.d"), [CONTAINERD_DROP_IN]: result.dropIn.text },
        priorWrites: {},
        containerdDump: dump,
    };
}
