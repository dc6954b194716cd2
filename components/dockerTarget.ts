import * as pulumi from "@pulumi/pulumi";
import { NodeConnectionArgs } from "./connection";
import { ContainerEngine } from "./dockerGpuContainer";

/** A GpuNode as a DockerGpuContainer's host: its connection and its driver, as `GpuNode.dockerTarget()` gives them. */
export interface DockerTarget {
    connection: NodeConnectionArgs;
    driverVersion: pulumi.Input<string | undefined>;
    driverBranch: pulumi.Input<string | undefined>;
    /** The rootless daemon's owner on a `docker-rootless` node, so the container lands on that user's daemon. */
    rootlessUser?: pulumi.Input<string | undefined>;
    /** `podman` on a `podman` node, so the container runs through `podman run` with CDI devices; `docker` on the others. */
    engine?: pulumi.Input<ContainerEngine>;
}

/** Connections handed out by `GpuNode.dockerTarget()`, and the node each belongs to. */
const targetNodes = new WeakMap<NodeConnectionArgs, pulumi.Resource>();

/** Records that `connection` was handed out by `node.dockerTarget()`. */
export function registerTarget(connection: NodeConnectionArgs, node: pulumi.Resource): void {
    targetNodes.set(connection, node);
}

/** The node whose `dockerTarget()` gave this connection, if any. */
export function nodeOfTarget(connection: NodeConnectionArgs): pulumi.Resource | undefined {
    return targetNodes.get(connection);
}
