// A Docker GPU host running a pinned Unreal Engine-style pixel-streaming runtime container: graphics and
// video capabilities (the `unreal-runtime` preset), and a DOCKER_HOST for remote Docker clients.
import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, DockerGpuContainer, GpuNode } from "../../index";

const config = new pulumi.Config();

const node = new GpuNode("render-1", {
    connection: { host: config.require("host"), user: config.get("user") ?? "root", privateKey: config.getSecret("privateKey") },
    runtime: ContainerRuntime.Docker,
    toolkit: { version: "1.20.0-1" },
});

const game = new DockerGpuContainer("pixel-streaming", {
    ...node.dockerTarget(),
    // Pin the engine image by tag (or digest); `latest` is refused.
    image: config.get("image") ?? "ghcr.io/epicgames/unreal-engine:runtime-pixel-streaming-5.4",
    preset: "unreal-runtime",
    env: { PIXEL_STREAMING_PORT: "8888" },
});

export const dockerHost = node.dockerHost;
export const compatibility = game.compatibility;
