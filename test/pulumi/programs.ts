/**
 * A user's program, as the README shows it: one GpuNode from stack config, and optionally a
 * DockerGpuContainer on it. It imports the library by package name, like any platform repo would.
 */
export const USER_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, DockerGpuContainer, GpuNode, GpuSelection } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const driverVersion = cfg.get("driverVersion");
const node = new GpuNode("gpu", {
    connection: {
        host: cfg.require("host"),
        port: cfg.requireNumber("port"),
        user: cfg.get("user") ?? "root",
        privateKey: cfg.requireSecret("privateKey"),
        hostKey: cfg.require("hostKey"),
        sudoPassword: cfg.getSecret("sudoPassword"),
    },
    runtime: (cfg.get("runtime") ?? "docker") as ContainerRuntime,
    rootlessUser: cfg.get("rootlessUser"),
    setAsDefault: cfg.getBoolean("setAsDefault") ?? false,
    driver: driverVersion ? { version: driverVersion } : undefined,
    toolkit: { version: cfg.require("toolkitVersion"), repoUrl: cfg.require("repoUrl"), keyFingerprint: cfg.require("keyFingerprint") },
});
const image = cfg.get("containerImage");
if (image) {
    new DockerGpuContainer("app", { ...node.dockerTarget(), image, gpuSelection: GpuSelection.Runtime, args: ["/bin/busybox", "sleep", "3600"] });
}
export const steps = node.steps;
export const gpus = node.gpus;
export const dockerHost = node.dockerHost;
export const toolkitVersion = node.toolkitVersion;
export const findings = node.findings;
`;
