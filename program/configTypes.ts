import { RuntimeMode } from "../components/enums";
import { FabricManagerMode } from "../sdk/spec/choices";
import { SharingStrategy } from "../sdk/kubernetes/manifests";
import { Runtime } from "../sdk/node/nodePlan";

/*
 * The stack config's types, written out rather than inferred from the zod schema (program/config.ts): they are
 * public (index.ts), and a type inferred from zod makes every consumer's `tsc` load zod's own .d.ts, which fail
 * without esModuleInterop, as in Pulumi's template tsconfig (issue 26). config.ts checks both stay identical.
 */

/** A node's `driver`: exactly one of `branch` or `version`. */
export interface DriverConfig {
    branch?: string;
    version?: string;
    kernelModules?: "open" | "proprietary";
    source?: "distro" | "cuda-repo";
    server?: boolean;
    cudaRepoUrl?: string;
    packages?: string[];
    reboot?: boolean;
}

/** A node's `toolkit`. */
export interface ToolkitConfig {
    version?: string;
    experimental?: boolean;
    repoUrl?: string;
    keyUrl?: string;
    keyFingerprint?: string;
    mode?: RuntimeMode;
}

/** A node's `facts`: only for `gpu-node plan`, recorded host facts so a plan can be made without SSH. */
export interface NodeFactsConfig {
    probeFile?: string;
    files?: Record<string, string>;
}

/** One entry of a node's `migLayout.devices`: which GPUs, MIG on or off, and the instances by profile. */
export interface MigLayoutDeviceConfig {
    gpus?: string[];
    enabled?: boolean;
    profiles?: Record<string, number>;
}

/** A node's `migLayout` (GpuNode `migLayout`): its values are checked against the GPUs when the node is planned. */
export interface MigLayoutConfig {
    devices: MigLayoutDeviceConfig[];
    stopServices?: string[];
}

/** One entry of the stack config's `nodes` list (see Pulumi.example.yaml). */
export interface NodeConfig {
    /** Resource name of the node; defaults to `host`. */
    name?: string;
    host: string;
    port?: number;
    user?: string;
    /** Path of a private key file on the machine that runs Pulumi; read only when the host is dialled. */
    privateKeyPath?: string;
    /** The host's public key (`ssh-ed25519 AAAA…`), pinned. */
    hostKey?: string;
    runtime?: Runtime;
    driver?: DriverConfig;
    toolkit?: ToolkitConfig;
    rootlessUser?: string;
    rootlessHome?: string;
    runtimeName?: string;
    setAsDefault?: boolean;
    enableCdi?: boolean;
    fabricManager?: FabricManagerMode;
    persistenced?: boolean;
    migLayout?: MigLayoutConfig;
    /** Only for `gpu-node plan`; ignored by `pulumi up`. */
    facts?: NodeFactsConfig;
}

/** The `kubernetes` object's `sharing`: the fields each strategy uses. */
export type SharingConfigEntry =
    | { strategy: SharingStrategy.None; replicas?: number }
    | { strategy: SharingStrategy.TimeSlicing; replicas: number; failRequestsGreaterThanOne?: boolean }
    | { strategy: SharingStrategy.Mps; replicas: number };

/** The stack config's optional `kubernetes` object. */
export interface KubernetesConfig {
    /** Kubernetes node names to label as provisioned GPU nodes. */
    labelNodes?: string[];
    sharing?: SharingConfigEntry;
    validate?: boolean;
}
