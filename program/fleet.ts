import * as fs from "node:fs";
import * as os from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime } from "../components/enums";
import { DriverArgs, GpuNode, ToolkitArgs } from "../components/gpuNode";
import { GpuComponentOptions } from "../components/planOnHost";
import type { KubernetesGpuSupport } from "../components/kubernetesGpuSupport";
import { GpuConfigError } from "../sdk/errors";
import { SharingStrategy } from "../sdk/k8s/manifests";
import { validateChoice } from "../sdk/validate";

/** One entry of the stack config's `nodes` list. */
export interface NodeConfig {
    /** Resource name of the node; defaults to `host`. */
    name?: string;
    host: string;
    port?: number;
    user?: string;
    /** Path of a private key file on the machine that runs Pulumi. Without it (and without `privateKey` as a secret), the SSH agent is used. */
    privateKeyPath?: string;
    /** The host's public key (`ssh-ed25519 AAAA…`), pinned. */
    hostKey?: string;
    runtime?: `${ContainerRuntime}`;
    driver?: DriverArgs;
    toolkit?: ToolkitArgs;
    rootlessUser?: string;
    setAsDefault?: boolean;
    enableCdi?: boolean;
    /** Only for `gpu-node plan`: recorded host facts, so a plan can be made without SSH. Ignored by `pulumi up`. */
    facts?: { probeFile?: string; files?: Record<string, string> };
}

/** Optional cluster side, from the stack config's `kubernetes` object. */
export interface KubernetesConfig {
    /** Kubernetes node names to label as provisioned GPU nodes. */
    labelNodes?: string[];
    sharing?: { strategy: `${SharingStrategy}`; replicas: number; failRequestsGreaterThanOne?: boolean };
    validate?: boolean;
}

/**
 * The root program's body: one GpuNode per entry of the stack config's `nodes`, created side by side
 * (no node waits for another), with per-node outputs. `privateKey` and `sudoPassword` come from secret
 * config (`pulumi config set --secret`). Called only by program/index.ts, so importing the library
 * never creates resources.
 */
export function provisionNodesFromConfig(options?: GpuComponentOptions): Record<string, pulumi.Output<unknown>> {
    const outputs: Record<string, pulumi.Output<unknown>> = {};
    for (const node of createNodesFromConfig(options).nodes) {
        outputs[node.name] = pulumi.output({
            driverVersion: node.node.driverVersion,
            toolkitVersion: node.node.toolkitVersion,
            runtimes: node.node.runtimes,
            gpus: node.node.gpus,
            cdiDevices: node.node.cdiDevices,
            rebootPending: node.node.rebootPending,
            dockerHost: node.node.dockerHost,
        });
    }
    return outputs;
}

/** The resources of the stack config: one GpuNode per `nodes` entry, and KubernetesGpuSupport when `kubernetes` is set. */
export function createNodesFromConfig(options?: GpuComponentOptions): { nodes: Array<{ name: string; node: GpuNode }>; kubernetes?: KubernetesGpuSupport } {
    const config = new pulumi.Config();
    const nodes = config.requireObject<NodeConfig[]>("nodes");
    const privateKey = config.getSecret("privateKey");
    const sudoPassword = config.getSecret("sudoPassword");
    if (!Array.isArray(nodes) || nodes.length === 0) {
        throw new GpuConfigError("config nodes", "is empty", "list at least one node: see Pulumi.example.yaml");
    }
    const created: Array<{ name: string; node: GpuNode }> = [];
    const names = new Set<string>();
    nodes.forEach((entry, i) => {
        if (!entry || typeof entry.host !== "string" || entry.host === "") {
            throw new GpuConfigError(`config nodes[${i}].host`, "is missing", "give each node a host address");
        }
        const name = entry.name ?? entry.host;
        if (names.has(name)) throw new GpuConfigError(`config nodes[${i}].name`, `"${name}" is used twice`, "give each node a unique name");
        names.add(name);
        const runtime = validateChoice(entry.runtime ?? "docker", Object.values(ContainerRuntime), `config nodes[${i}].runtime`) as ContainerRuntime;
        const keyFromFile = entry.privateKeyPath ? pulumi.secret(fs.readFileSync(entry.privateKeyPath.replace(/^~(?=\/)/, os.homedir()), "utf8")) : undefined;
        const node = new GpuNode(name, {
            connection: { host: entry.host, port: entry.port, user: entry.user, privateKey: keyFromFile ?? privateKey, hostKey: entry.hostKey, sudoPassword },
            runtime,
            driver: entry.driver,
            toolkit: entry.toolkit,
            rootlessUser: entry.rootlessUser,
            setAsDefault: entry.setAsDefault,
            enableCdi: entry.enableCdi,
        }, options);
        created.push({ name, node });
    });
    const k8sConfig = config.getObject<KubernetesConfig>("kubernetes");
    if (k8sConfig === undefined) return { nodes: created };
    // Loaded only when asked for: @pulumi/kubernetes is large, and most fleets plan without it.
    const { KubernetesGpuSupport: Support } = require("../components/kubernetesGpuSupport") as typeof import("../components/kubernetesGpuSupport");
    const kubernetes = new Support("gpu-support", {
        labelNodes: k8sConfig.labelNodes,
        sharing: k8sConfig.sharing === undefined ? undefined : { ...k8sConfig.sharing, strategy: k8sConfig.sharing.strategy as SharingStrategy },
        validate: k8sConfig.validate,
    });
    return { nodes: created, kubernetes };
}
