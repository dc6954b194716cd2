/**
 * The real-GPU suite's workload containers (issue 27), built here by the same sdk function DockerGpuContainer uses
 * (dockerContainerStep) and run there by test/gpu/device/workloads.sh exactly as a component sends them. They use the
 * image `gpu-wl:local` (gpu-check:local plus a static busybox and nvdeccheck, built there).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DockerContainerSpec, dockerContainerStep } from "../../sdk/workloads/dockerContainer";
import { invocationFor } from "../../sdk/steps/invocation";
import { CARRY_DIR } from "./gpuSuite";

const IMAGE = "gpu-wl:local";
const SLEEP = { entrypoints: ["/usr/bin/busybox"] };
const sleep = ["sleep", "600"];

/** Each workload: the spec, and what workloads.sh checks in it (named the same). */
export const WORKLOADS: DockerContainerSpec[] = [
    // A published port on the loopback serving a read-only bind mount, GPU 0 through CDI.
    {
        name: "wl-serve",
        image: IMAGE,
        mode: "cdi",
        devices: ["0"],
        args: ["httpd", "-f", "-p", "8080", "-h", "/www"],
        options: {
            ...SLEEP,
            networkMode: "gpu-wl",
            ports: [{ internal: 8080, external: 18290, ip: "127.0.0.1" }],
            volumes: [{ containerPath: "/www", hostPath: "/tmp/gpu-wl/www", readOnly: true }],
        },
    },
    // NGC's flags: the host's IPC namespace, memlock unlimited, a 64 MiB stack; CUDA runs in it.
    {
        name: "wl-ngc",
        image: IMAGE,
        mode: "runtime",
        driverCapabilities: ["compute", "utility"],
        args: sleep,
        options: {
            ...SLEEP,
            ipcMode: "host",
            ulimits: [
                { name: "memlock", soft: -1, hard: -1 },
                { name: "stack", soft: 67108864, hard: 67108864 },
            ],
        },
    },
    // NGC's other form: a private IPC namespace with a large /dev/shm.
    { name: "wl-shm", image: IMAGE, mode: "runtime", args: sleep, options: { ...SLEEP, shmSize: 8192 } },
    // Capabilities, checked inside: libraries present, nvidia-smi, NVDEC.
    { name: "wl-caps-all", image: IMAGE, mode: "runtime", driverCapabilities: ["all"], args: sleep, options: SLEEP },
    { name: "wl-caps-graphics", image: IMAGE, mode: "runtime", driverCapabilities: ["graphics", "utility"], args: sleep, options: SLEEP },
    { name: "wl-caps-video", image: IMAGE, mode: "runtime", driverCapabilities: ["video", "compute", "utility"], args: sleep, options: SLEEP },
    { name: "wl-caps-cdi-all", image: IMAGE, mode: "cdi", driverCapabilities: ["all"], args: sleep, options: SLEEP },
];

/** Writes .gpu/workloads/<name>.sh (the script, on stdin), .cmd and .undo.cmd, and names.txt. */
export function writeWorkloads(): void {
    const dir = path.join(CARRY_DIR, "workloads");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const spec of WORKLOADS) {
        const step = dockerContainerStep(spec);
        const apply = invocationFor(step, "root", "root");
        fs.writeFileSync(path.join(dir, `${spec.name}.sh`), apply.stdin ?? "");
        fs.writeFileSync(path.join(dir, `${spec.name}.cmd`), apply.command);
        fs.writeFileSync(path.join(dir, `${spec.name}.undo.cmd`), invocationFor({ ...step, script: step.undoScript! }, "root", "root", "argv").command);
    }
    fs.writeFileSync(path.join(dir, "names.txt"), WORKLOADS.map((w) => `${w.name}\n`).join(""));
    console.log(`wrote ${WORKLOADS.length} workloads to .gpu/workloads: ${WORKLOADS.map((w) => w.name).join(", ")}`);
}
