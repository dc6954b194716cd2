import * as fs from "node:fs";
import * as os from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, FabricManager } from "../components/enums";
import { GpuNode } from "../components/gpuNode";
import { DriverArgs } from "../components/nodeArgs";
import { GpuComponentOptions } from "../components/planOnHost";
import type { KubernetesGpuSupport } from "../components/kubernetesGpuSupport";
import { SharingStrategy } from "../sdk/kubernetes/manifests";
import { ConfigProblem, NodeConfig, configError, parseKubernetes, parseNodes, unknownStackKeys } from "./config";

// From configTypes.ts, not config.ts: config.ts's .d.ts imports zod, which fails a consumer without esModuleInterop.
export type { KubernetesConfig, NodeConfig } from "./configTypes";

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

/**
 * The resources of the stack config: one GpuNode per `nodes` entry, and KubernetesGpuSupport when `kubernetes` is set.
 * The whole config is checked first (program/config.ts); any problem, in any node, stops the program before
 * a resource exists, with every problem named.
 */
export function createNodesFromConfig(options?: GpuComponentOptions): { nodes: Array<{ name: string; node: GpuNode }>; kubernetes?: KubernetesGpuSupport } {
    const config = new pulumi.Config();
    const namespace = `${config.name}:`;
    const problems = unknownStackKeys(
        Object.keys(pulumi.runtime.allConfig())
            .filter((k) => k.startsWith(namespace))
            .map((k) => k.slice(namespace.length)),
    );
    const parsed = parseNodes(config.getObject<unknown>("nodes"));
    const { config: k8sConfig, problems: k8sProblems } = parseKubernetes(config.getObject<unknown>("kubernetes"));
    problems.push(...k8sProblems);
    const keys = parsed.map((node) => (node.ok ? keyFromFile(node.config, node.index) : {}));
    for (const node of parsed) if (!node.ok) problems.push(...node.problems);
    for (const k of keys) if (k.problem) problems.push(k.problem);
    if (problems.length > 0) throw configError(problems);

    const privateKey = config.getSecret("privateKey");
    const sudoPassword = config.getSecret("sudoPassword");
    const created = parsed.map((entry, i) => {
        const node = entry.ok ? entry.config : undefined!;
        const gpuNode = new GpuNode(
            entry.name,
            {
                connection: { host: node.host, port: node.port, user: node.user, privateKey: keys[i].key ?? privateKey, hostKey: node.hostKey, sudoPassword },
                runtime: node.runtime as ContainerRuntime | undefined,
                driver: node.driver as DriverArgs | undefined,
                toolkit: node.toolkit,
                rootlessUser: node.rootlessUser,
                rootlessHome: node.rootlessHome,
                runtimeName: node.runtimeName,
                setAsDefault: node.setAsDefault,
                enableCdi: node.enableCdi,
                fabricManager: node.fabricManager as FabricManager | undefined,
                persistenced: node.persistenced,
                migLayout: node.migLayout,
            },
            options,
        );
        return { name: entry.name, node: gpuNode };
    });
    // Sharing "none" is no sharing: no ConfigMap, so the device plugin runs with its defaults.
    const sharing =
        k8sConfig?.sharing?.strategy === SharingStrategy.None
            ? undefined
            : (k8sConfig?.sharing as { strategy: SharingStrategy; replicas: number; failRequestsGreaterThanOne?: boolean } | undefined);
    if (k8sConfig === undefined) return { nodes: created };
    // Loaded only when asked for: @pulumi/kubernetes is large, and most fleets plan without it.
    const { KubernetesGpuSupport: Support } = require("../components/kubernetesGpuSupport") as typeof import("../components/kubernetesGpuSupport");
    const kubernetes = new Support("gpu-support", { labelNodes: k8sConfig.labelNodes, sharing, validate: k8sConfig.validate });
    return { nodes: created, kubernetes };
}

/**
 * The key of `privateKeyPath`, or a problem naming the node's field. Read only by the program itself
 * (`pulumi preview`/`up`, which dial the hosts): `gpu-node plan` hands the program no key paths, so CI
 * needs no key file.
 */
function keyFromFile(node: NodeConfig, index: number): { key?: pulumi.Output<string>; problem?: ConfigProblem } {
    if (node.privateKeyPath === undefined) return {};
    const full = node.privateKeyPath.replace(/^~(?=\/)/, os.homedir());
    try {
        return { key: pulumi.secret(fs.readFileSync(full, "utf8")) };
    } catch (error) {
        return {
            problem: {
                field: `nodes[${index}].privateKeyPath`,
                problem: `cannot read ${full} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
                fix: "point it at the SSH private key, or drop it and use `pulumi config set --secret privateKey` or the SSH agent",
            },
        };
    }
}
