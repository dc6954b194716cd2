import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { FleetNode, nodeExec } from "./fleet";
import { AS_ALICE } from "./fleet/hostConfigs";

/** The workload suites' image: a static busybox alone (the fleet has no registry). */
export const IMAGE = "mini:1";

/** Imports `mini:1` and `mini-gl:1` (the same, setting its own capabilities as Vulkan/GL images do) into the node's daemon, or alice's rootless one. */
export async function importMini(node: FleetNode, asAlice = false): Promise<void> {
    fs.writeFileSync(path.join(REPO_ROOT, ".tmp/busybox"), fs.readFileSync("/bin/busybox"), { mode: 0o755 });
    spawnSync("docker", ["cp", path.join(REPO_ROOT, ".tmp/busybox"), `${node.name}:/opt/busybox`]);
    const dockerCmd = asAlice ? `${AS_ALICE} docker` : "docker";
    nodeExec(
        node.name,
        "mkdir -p /opt/mini/bin && install -m 755 /opt/busybox /opt/mini/bin/busybox && tar -C /opt/mini -cf /opt/mini.tar . && chmod 644 /opt/mini.tar",
    );
    nodeExec(node.name, `${dockerCmd} import /opt/mini.tar ${IMAGE} >/dev/null`);
    nodeExec(node.name, `${dockerCmd} import --change 'ENV NVIDIA_DRIVER_CAPABILITIES=graphics,utility' /opt/mini.tar mini-gl:1 >/dev/null`);
}
