// An Unreal Engine Pixel Streaming host: Epic's signalling and web server (players on 80, the game on 8888), a TURN/STUN
// server on 19302, and the packaged game on the GPU, streaming over WebRTC's UDP range. See README.md for each port.
import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, DockerGpuContainer, GpuNode, GpuSelection, PortProtocol } from "pulumi-nvidia-gpu";

const config = new pulumi.Config();
const host = config.require("host");
// The address browsers and the game reach this host at (a public IP or DNS name); default the SSH host.
const publicHost = config.get("publicHost") ?? host;
// WebRTC's media ports: a small fixed range, published 1:1 and given to the engine, so NAT and firewalls can allow it.
const rtcMinPort = config.getNumber("rtcMinPort") ?? 49152;
const rtcPortCount = config.getNumber("rtcPortCount") ?? 64;

const node = new GpuNode("render-1", {
    connection: { host, user: config.get("user") ?? "root", privateKey: config.getSecret("privateKey"), hostKey: config.get("hostKey") },
    runtime: ContainerRuntime.Docker,
    toolkit: { version: "1.20.0-1" },
});

const iceServers = JSON.stringify({ iceServers: [{ urls: [`stun:${publicHost}:19302`, "stun:stun.l.google.com:19302"] }] });

// STUN (and TURN, once given users: README.md) on 19302, the port Epic's scripts and Google's public STUN use.
const turn = new DockerGpuContainer("turn", {
    ...node.dockerTarget(),
    gpuSelection: GpuSelection.None,
    image: config.get("turnImage") ?? "coturn/coturn:4.6.3",
    args: ["--listening-port=19302", `--external-ip=${publicHost}`, "--no-cli", "--fingerprint"],
    ports: [
        { internal: 19302, protocol: PortProtocol.Udp },
        { internal: 19302, protocol: PortProtocol.Tcp },
    ],
});

// Epic's signalling and web server (Cirrus, UE 5.4): players' browsers on 80, the game's WebSocket on 8888.
const signalling = new DockerGpuContainer("signalling", {
    ...node.dockerTarget(),
    gpuSelection: GpuSelection.None,
    image: config.get("signallingImage") ?? "ghcr.io/epicgames/pixel-streaming-signalling-server:5.4",
    args: ["--HttpPort", "80", "--StreamerPort", "8888", "--peerConnectionOptions", iceServers],
    ports: [{ internal: 80 }, { internal: 8888 }],
});

// The packaged game (an image built FROM ghcr.io/epicgames/unreal-engine:runtime-pixel-streaming), pinned by tag or digest.
const game = new DockerGpuContainer(
    "pixel-streaming",
    {
        ...node.dockerTarget(),
        image: config.get("image") ?? "ghcr.io/epicgames/unreal-engine:runtime-pixel-streaming-5.4",
        // graphics (Vulkan), video (NVENC), utility.
        preset: "unreal-runtime",
        args: [
            "-RenderOffscreen",
            `-PixelStreamingURL=ws://${publicHost}:8888`,
            `-PixelStreamingWebRTCMinPort=${rtcMinPort}`,
            `-PixelStreamingWebRTCMaxPort=${rtcMinPort + rtcPortCount - 1}`,
        ],
        ports: [{ internal: rtcMinPort, protocol: PortProtocol.Udp, count: rtcPortCount }],
        restart: "unless-stopped",
    },
    { dependsOn: [signalling, turn] },
);

export const playerUrl = `http://${publicHost}/`;
export const dockerHost = node.dockerHost;
export const compatibility = game.compatibility;
