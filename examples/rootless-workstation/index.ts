// A workstation whose user runs rootless Docker: ~/.config/docker/daemon.json, `systemctl --user restart docker`,
// and the CDI spec: containers ask for `nvidia.com/gpu=all`, so the host-wide `no-cgroups` in
// /etc/nvidia-container-runtime/config.toml is never flipped (NVIDIA/nvidia-container-toolkit#85).
import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, GpuNode } from "pulumi-nvidia-gpu";

const config = new pulumi.Config();

const workstation = new GpuNode("workstation", {
    connection: {
        host: config.require("host"),
        user: config.get("user") ?? "root",
        privateKey: config.getSecret("privateKey"),
        hostKey: config.get("hostKey"),
    },
    runtime: ContainerRuntime.DockerRootless,
    rootlessUser: config.get("rootlessUser") ?? "alice",
    toolkit: { version: "1.20.0-1" },
});

export const cdiDevices = workstation.cdiDevices;
export const dockerHost = workstation.dockerHost;
