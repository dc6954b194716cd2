import { GPU_NODE_LABEL } from "./manifests";
import { nodeDaemonSet } from "./nodeDaemonSet";

type Manifest = Record<string, any>;

/** DCGM 4.6.0 with exporter 4.8.3, the GPU Operator 26.7 default; distroless (no shell). */
export const DCGM_EXPORTER_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless";
export const DCGM_EXPORTER_PORT = 9400;

export interface DcgmExporterOptions {
    namespace: string;
    image?: string;
    runtimeClassName?: string;
    nodeSelector?: Record<string, string>;
}

const NAME = "dcgm-exporter";
const LABELS = { "app.kubernetes.io/name": NAME };

/**
 * NVIDIA's DCGM exporter on every GPU node, as NVIDIA's own example deploys it: Prometheus metrics on port 9400,
 * each GPU's metrics tagged with the pod using it (read from the kubelet's pod-resources socket, so no API
 * access and no service account token), root with CAP_SYS_ADMIN only for the profiling metrics (`DCGM_FI_PROF_*`).
 */
export function dcgmExporterDaemonSet(o: DcgmExporterOptions): Manifest {
    const health = { httpGet: { path: "/health", port: DCGM_EXPORTER_PORT, scheme: "HTTP" } };
    return nodeDaemonSet({
        name: NAME,
        namespace: o.namespace,
        runtimeClassName: o.runtimeClassName,
        nodeSelector: o.nodeSelector ?? { [GPU_NODE_LABEL]: "true" },
        pod: { automountServiceAccountToken: false },
        containers: [
            {
                name: NAME,
                image: o.image ?? DCGM_EXPORTER_IMAGE,
                env: [
                    { name: "DCGM_EXPORTER_LISTEN", value: `:${DCGM_EXPORTER_PORT}` },
                    { name: "DCGM_EXPORTER_KUBERNETES", value: "true" },
                    { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                ],
                ports: [{ name: "metrics", containerPort: DCGM_EXPORTER_PORT, protocol: "TCP" }],
                securityContext: {
                    runAsNonRoot: false,
                    runAsUser: 0,
                    allowPrivilegeEscalation: false,
                    capabilities: { add: ["SYS_ADMIN"], drop: ["ALL"] },
                },
                volumeMounts: [{ name: "pod-gpu-resources", mountPath: "/var/lib/kubelet/pod-resources", readOnly: true }],
                livenessProbe: { ...health, initialDelaySeconds: 45, periodSeconds: 5 },
                readinessProbe: { ...health, initialDelaySeconds: 45 },
                resources: { requests: { cpu: "100m", memory: "128Mi" } },
            },
        ],
        volumes: [{ name: "pod-gpu-resources", hostPath: { path: "/var/lib/kubelet/pod-resources", type: "Directory" } }],
    });
}

/**
 * The exporter's Service, annotated for Prometheus's annotation-based discovery (`prometheus.io/scrape`), which
 * needs no CRD. No ServiceMonitor: that is a Prometheus Operator CRD, and creating one fails on a cluster without it.
 */
export function dcgmExporterService(namespace: string): Manifest {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
            name: NAME,
            namespace,
            labels: LABELS,
            annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(DCGM_EXPORTER_PORT), "prometheus.io/path": "/metrics" },
        },
        spec: {
            selector: LABELS,
            ports: [{ name: "metrics", port: DCGM_EXPORTER_PORT, targetPort: "metrics", protocol: "TCP" }],
        },
    };
}
