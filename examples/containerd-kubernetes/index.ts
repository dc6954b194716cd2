// A containerd node pool joined to Kubernetes: nodes provisioned over SSH, the device plugin with a
// time-sliced GPU, and a GpuWorkload whose image is checked against the nodes' drivers at preview.
import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, GpuNode, GpuWorkload, KubernetesGpuSupport, SharingStrategy, WorkloadKind } from "pulumi-nvidia-gpu";

const config = new pulumi.Config();
const hosts = config.requireObject<string[]>("hosts");

const nodes = hosts.map(
    (host, i) =>
        new GpuNode(`pool-${i}`, {
            connection: { host, user: config.get("user") ?? "root", privateKey: config.getSecret("privateKey") },
            runtime: ContainerRuntime.Containerd,
            driver: { branch: "580" },
            toolkit: { version: "1.20.0-1" },
        }),
);

const support = new KubernetesGpuSupport(
    "gpu",
    {
        labelNodes: config.getObject<string[]>("kubernetesNodeNames") ?? [],
        sharing: { strategy: SharingStrategy.TimeSlicing, replicas: 4 },
    },
    { dependsOn: nodes },
);

export const inference = new GpuWorkload(
    "inference",
    {
        kind: WorkloadKind.Deployment,
        image: "nvcr.io/nvidia/cuda:13.0.2-runtime-ubuntu24.04",
        command: ["sleep", "infinity"],
        gpus: 1,
        replicas: 2,
        nodeDriverVersions: nodes.map((n) => n.driverVersion),
    },
    { dependsOn: [support] },
).compatibility;
