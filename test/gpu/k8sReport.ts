import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";

/** test/gpu/results/k8s-<date>.md from the k8s phase's $OUT (results.txt, machine.txt, artifacts.tar.gz); true when all passed. */
export function writeK8sReport(dir: string): boolean {
    const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").trimEnd() : "(missing)");
    const results = read(path.join(dir, "results.txt"));
    const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-k8s-"));
    if (fs.existsSync(path.join(dir, "artifacts.tar.gz"))) execFileSync("tar", ["-C", artifacts, "-xzf", path.join(dir, "artifacts.tar.gz")]);
    const tail = (file: string, lines = 15) => read(path.join(artifacts, file)).split("\n").slice(-lines).join("\n");
    const date = new Date().toISOString().slice(0, 10);
    const passed = results.split("\n").filter((l) => l.startsWith("PASS")).length;
    const failed = results.split("\n").filter((l) => l.startsWith("FAIL")).length;
    const block = (title: string, text: string) => `## ${title}\n\`\`\`\n${text}\n\`\`\`\n`;
    const report = [
        `# Real-GPU suite, k8s phase, ${date}\n`,
        "`sh test/gpu/device/k8s.sh` (test/gpu/README.md): containerd with the project's config, NVIDIA's toolkit 1.20.0, a standalone",
        "kubelet v1.34.4, NVIDIA's device plugin v0.17.4 and CUDA pods, all as static pods rendered by KubernetesGpuSupport and GpuWorkload",
        `(.gpu/k8s/render.txt says how). ${passed} passed, ${failed} failed.\n`,
        block("Machine", read(path.join(dir, "machine.txt"))),
        block("Results", results),
        block("How the pods were rendered", read(path.join(REPO_ROOT, ".gpu/k8s/render.txt"))),
        block("kubelet device checkpoint, plain", tail("checkpoint-plain.json", 5)),
        block("kubelet device checkpoint, time-slicing", tail("checkpoint-sharing.json", 5)),
        block("CUDA pod", tail("cuda.log")),
        block("CUDA pods under time-slicing", `${tail("cuda-a.log", 6)}\n---\n${tail("cuda-b.log", 6)}`),
        block("device plugin log (time-slicing)", tail("device-plugin-sharing.log", 25)),
    ].join("\n");
    const file = path.join(REPO_ROOT, "test/gpu/results", `k8s-${date}.md`);
    fs.writeFileSync(file, report);
    console.log(`wrote ${path.relative(REPO_ROOT, file)}: ${passed} passed, ${failed} failed`);
    return failed === 0 && passed > 0;
}
