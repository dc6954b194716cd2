// One Docker GPU host: driver, toolkit, daemon.json, and a container running a pinned CUDA image.
import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, DockerGpuContainer, GpuNode } from "pulumi-nvidia-gpu";

const config = new pulumi.Config();

const node = new GpuNode("gpu-1", {
    connection: {
        host: config.require("host"),
        user: config.get("user") ?? "root",
        privateKey: config.getSecret("privateKey"),
        hostKey: config.get("hostKey"),
    },
    runtime: ContainerRuntime.Docker,
    driver: { branch: "580" },
    toolkit: { version: "1.20.0-1" },
});

// Checked at preview against the node's driver: CUDA 12.4.1 needs driver 550.54.15 or newer.
const smi = new DockerGpuContainer("nvidia-smi", {
    ...node.dockerTarget(),
    image: "nvidia/cuda:12.4.1-base-ubuntu22.04",
    args: ["sleep", "infinity"],
    devices: ["0"],
});

export const driverVersion = node.driverVersion;
export const gpus = node.gpus;
export const compatibility = smi.compatibility;
