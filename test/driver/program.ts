/**
 * A user's program with a pinned driver: one GpuNode from stack config (CDI only, the toolkit from the fleet's loopback
 * repository), its driver pin, module type, reboot and destroy behaviour from config, and the outputs the driver suites check.
 */
export const DRIVER_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, DriverSource, GpuNode, KernelModules } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const node = new GpuNode("gpu", {
    connection: { host: "127.0.0.1", port: cfg.requireNumber("port"), user: "root", privateKey: cfg.requireSecret("privateKey"), hostKey: cfg.require("hostKey") },
    runtime: ContainerRuntime.Cdi,
    driver: {
        version: cfg.require("driverVersion"),
        kernelModules: cfg.require("kernelModules") as KernelModules,
        // Debian's own driver is \`distro\`; the default on Debian is NVIDIA's CUDA repository, which no test can reach.
        source: cfg.get("driverSource") as DriverSource | undefined,
        cudaRepoUrl: cfg.get("cudaRepoUrl"),
        purgeOnDestroy: cfg.getBoolean("purgeOnDestroy") ?? false,
        reboot: cfg.getBoolean("reboot") ?? false,
    },
    toolkit: { version: "1.20.0-1", repoUrl: cfg.require("repoUrl"), keyFingerprint: cfg.require("keyFingerprint") },
});
export const steps = node.steps;
export const driverVersion = node.driverVersion;
export const rebootPending = node.rebootPending;
export const findings = node.findings;
`;
