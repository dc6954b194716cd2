/**
 * `npm run test:gpu -- <phase>`: the local phases of the real-GPU suite (test/gpu/README.md).
 *   prepare            .gpu/: Docker from Debian's .debs, the NVIDIA-like repository with the real binaries, read-host.sh,
 *                      busybox, and the workload containers' steps (.gpu/workloads)
 *   plan SNAPSHOT      .gpu/plan/ from the snapshot the device's `snapshot` phase read
 *   report RESULTS     checks the device's `apply` results and writes test/gpu/results/gpu-<date>.md (exit 1 on a failure)
 *   prepare-k8s        .gpu/k8s/: kubelet, device plugin, ctr, pause, containerd, runc, the rendered static pods and containerd config; .gpu/repo
 *   report-k8s RESULTS writes test/gpu/results/k8s-<date>.md from the device's `k8s.sh` results (exit 1 on a failure)
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { writePlan, writeReadScript } from "./gpuSuite";
import { writeReport } from "./gpuReport";
import { writeWorkloads } from "./gpuWorkloads";
import { writeK8sReport } from "./k8sReport";
import { REPO_ROOT } from "../helpers/paths";

const [phase, arg] = process.argv.slice(2);
if (phase === "prepare") {
    execFileSync("sh", [path.join(REPO_ROOT, "test/gpu/prepare.sh")], { stdio: "inherit" });
    writeReadScript();
    writeWorkloads();
} else if (phase === "plan" && arg !== undefined) {
    writePlan(arg);
} else if (phase === "report" && arg !== undefined) {
    process.exitCode = writeReport(arg) ? 0 : 1;
} else if (phase === "prepare-k8s") {
    execFileSync("sh", [path.join(REPO_ROOT, "test/gpu/prepare-k8s.sh")], { stdio: "inherit" });
} else if (phase === "report-k8s" && arg !== undefined) {
    process.exitCode = writeK8sReport(arg) ? 0 : 1;
} else {
    console.error("usage: npm run test:gpu -- prepare | plan SNAPSHOT | report RESULTS_DIR | prepare-k8s | report-k8s RESULTS_DIR");
    process.exitCode = 64;
}
