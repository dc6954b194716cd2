import { createHash } from "node:crypto";
import { GpuConfigError } from "../errors";

type Manifest = Record<string, any>;

/**
 * Pod Security labels for the operands' namespace: the device plugin mounts hostPath and, under MIG, adds
 * SYS_ADMIN (DCGM too), which `baseline` refuses; NVIDIA's GPU Operator labels its namespace the same way.
 */
export const PRIVILEGED_NAMESPACE_LABELS: Record<string, string> = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/audit": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
};

/** The namespace patch (server-side apply: destroy removes these labels and nothing else). */
export function privilegedNamespacePatch(namespace: string): Manifest {
    return { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: PRIVILEGED_NAMESPACE_LABELS } };
}

/** The IDs a workload runs as under Pod Security `restricted`. */
export interface RestrictedOptions {
    runAsUser?: number;
    runAsGroup?: number;
    fsGroup?: number;
    readOnlyRootFilesystem?: boolean;
}

function id(value: number | undefined, field: string, allowRoot: boolean): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 2147483647) {
        throw new GpuConfigError(field, `${JSON.stringify(value)} is not a user or group ID`, "give a whole number from 1 to 2147483647");
    }
    if (value === 0 && !allowRoot) throw new GpuConfigError(field, "0 is root, which Pod Security restricted refuses", "give a non-root ID, e.g. 1000");
    return value;
}

/**
 * The pod and container securityContext that meet Pod Security `restricted` (runAsNonRoot, seccomp
 * RuntimeDefault, no privilege escalation, every capability dropped), so GPU workloads run where platform
 * clusters enforce it. The nvidia runtime injects devices and libraries, so a CUDA container needs no capability.
 */
export function restrictedSecurityContext(o: RestrictedOptions): { pod: Manifest; container: Manifest } {
    const runAsUser = id(o.runAsUser, "securityContext.runAsUser", false);
    const runAsGroup = id(o.runAsGroup, "securityContext.runAsGroup", true);
    const fsGroup = id(o.fsGroup, "securityContext.fsGroup", true);
    if (o.readOnlyRootFilesystem !== undefined && typeof o.readOnlyRootFilesystem !== "boolean") {
        throw new GpuConfigError(
            "securityContext.readOnlyRootFilesystem",
            `${JSON.stringify(o.readOnlyRootFilesystem)} is not true or false`,
            "set true or false",
        );
    }
    return {
        pod: {
            runAsNonRoot: true,
            ...(runAsUser !== undefined ? { runAsUser } : {}),
            ...(runAsGroup !== undefined ? { runAsGroup } : {}),
            ...(fsGroup !== undefined ? { fsGroup } : {}),
            seccompProfile: { type: "RuntimeDefault" },
        },
        container: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            ...(o.readOnlyRootFilesystem !== undefined ? { readOnlyRootFilesystem: o.readOnlyRootFilesystem } : {}),
        },
    };
}

/**
 * The RuntimeClass handler is the name of containerd's (or CRI-O's) runtime entry, GpuNode's `runtimeName`;
 * Kubernetes takes only a lower-case DNS label there, so any other name is refused before any pod fails.
 */
export function runtimeHandler(name: string, field = "runtimeName"): string {
    if (typeof name !== "string" || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
        throw new GpuConfigError(
            field,
            `${JSON.stringify(name)} is not a lower-case DNS label, which a RuntimeClass handler must be`,
            "give GpuNode and KubernetesGpuSupport the same runtimeName of lower-case letters, digits and '-', e.g. nvidia",
        );
    }
    return name;
}

/** The annotation that rolls the device plugin's pods when its config changes: v0.17 reads the file only at start (and on SIGHUP). */
export const CONFIG_HASH_ANNOTATION = "nvidia-gpu.pulumi.com/config-sha256";

export function configHashAnnotation(configText: string): Record<string, string> {
    return { [CONFIG_HASH_ANNOTATION]: createHash("sha256").update(configText).digest("hex") };
}
