import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/paths";

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager v1.34.4 built by
 * tools/kubernetes/setup.sh, with certificates made by openssl. Ports are this suite's own (25xx).
 */
export const PORTS = { etcdClient: 2579, etcdPeer: 2580, apiserver: 2543, controllerManager: 2557, scheduler: 2559 };

export interface ControlPlane {
    dir: string;
    /** An admin kubeconfig (client cert in `system:masters`). */
    kubeconfig: string;
    server: string;
    kubectl(args: string[], input?: string): string;
    /** kubectl that returns its exit code and output instead of throwing. */
    tryKubectl(args: string[], input?: string): { status: number; output: string };
    stop(): void;
}

export function kubernetesBin(name: string): string {
    return join(process.env.KUBERNETES_BIN ?? join(REPO_ROOT, ".tmp", "kubernetes", "bin"), name);
}

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** CA, serving cert for 127.0.0.1, admin client cert, service-account key pair. */
function makeCerts(dir: string): void {
    openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test-k8s-ca"]);
    writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n");
    writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
    for (const [name, subject, ext] of [
        ["server", "/CN=kube-apiserver", "server.ext"],
        ["admin", "/O=system:masters/CN=admin", "client.ext"],
    ]) {
        openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
        openssl(dir, [
            "x509",
            "-req",
            "-in",
            `${name}.csr`,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            `${name}.crt`,
            "-days",
            "2",
            "-extfile",
            ext,
        ]);
    }
    openssl(dir, ["genrsa", "-out", "sa.key", "2048"]);
    openssl(dir, ["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
}

function kubeconfigText(dir: string, server: string): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: test",
        "  cluster:",
        `    server: ${server}`,
        `    certificate-authority: ${join(dir, "ca.crt")}`,
        "users:",
        "- name: admin",
        "  user:",
        `    client-certificate: ${join(dir, "admin.crt")}`,
        `    client-key: ${join(dir, "admin.key")}`,
        "contexts:",
        "- name: test",
        "  context: { cluster: test, user: admin }",
        "current-context: test",
        "",
    ].join("\n");
}

function daemon(dir: string, name: string, args: string[]): ChildProcess {
    const log = openSync(join(dir, `${name}.log`), "a");
    const child = spawn(kubernetesBin(name), args, { stdio: ["ignore", log, log], detached: true });
    child.unref();
    return child;
}

async function waitFor(what: string, ok: () => boolean, seconds: number, log: string): Promise<void> {
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
        if (ok()) return;
        await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${what} not ready after ${seconds} s; last lines of ${log}:\n${readFileSync(log, "utf8").split("\n").slice(-15).join("\n")}`);
}

/** Pod Security enforced cluster-wide (no namespace exempt), as platform clusters configure it. */
function admissionConfig(level: string): string {
    return [
        "apiVersion: apiserver.config.k8s.io/v1",
        "kind: AdmissionConfiguration",
        "plugins:",
        "- name: PodSecurity",
        "  configuration:",
        "    apiVersion: pod-security.admission.config.k8s.io/v1",
        "    kind: PodSecurityConfiguration",
        "    defaults:",
        `      enforce: ${level}`,
        "      enforce-version: latest",
        "    exemptions: { usernames: [], runtimeClasses: [], namespaces: [] }",
        "",
    ].join("\n");
}

export interface ControlPlaneOptions {
    /** Also run kube-scheduler (for a kubelet). */
    scheduler?: boolean;
    /** Pod Security level enforced in every namespace without a label. Default `baseline`. */
    podSecurity?: string;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const dir = mkdtempSync(join(tmpdir(), "k8s-loopback-"));
    makeCerts(dir);
    writeFileSync(join(dir, "admission.yaml"), admissionConfig(options.podSecurity ?? "baseline"));
    const server = `https://127.0.0.1:${PORTS.apiserver}`;
    const kubeconfig = join(dir, "admin.kubeconfig");
    writeFileSync(kubeconfig, kubeconfigText(dir, server));
    const children: ChildProcess[] = [];
    // Stops every process and waits until each has exited (SIGKILL after 20 s): the next suite file's control plane binds
    // the same ports, and an etcd still shutting down held 2580 ("bind: address already in use", a loaded CI run).
    const stop = () => {
        for (const c of children.reverse()) {
            try {
                if (c.pid) process.kill(-c.pid, "SIGTERM");
            } catch {
                // already gone
            }
        }
        // Running, not a zombie: Node reaps its children only when its event loop runs, which this wait does not let it.
        const alive = (pid: number) => {
            try {
                return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
            } catch {
                return false;
            }
        };
        for (const c of children) {
            if (!c.pid) continue;
            for (let i = 0; i < 200 && alive(c.pid); i++) execFileSync("sleep", ["0.1"]);
            if (alive(c.pid)) {
                try {
                    process.kill(-c.pid, "SIGKILL");
                } catch {
                    // gone meanwhile
                }
            }
        }
    };
    const kubectl = (args: string[], input?: string) =>
        execFileSync(kubernetesBin("kubectl"), ["--kubeconfig", kubeconfig, ...args], { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    const tryKubectl = (args: string[], input?: string) => {
        try {
            return { status: 0, output: kubectl(args, input) };
        } catch (e) {
            const err = e as { status?: number; stdout?: string; stderr?: string };
            return { status: err.status ?? 1, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
        }
    };
    try {
        const etcdUrl = `http://127.0.0.1:${PORTS.etcdClient}`;
        const peerUrl = `http://127.0.0.1:${PORTS.etcdPeer}`;
        children.push(
            daemon(dir, "etcd", [
                `--data-dir=${join(dir, "etcd")}`,
                `--listen-client-urls=${etcdUrl}`,
                `--advertise-client-urls=${etcdUrl}`,
                `--listen-peer-urls=${peerUrl}`,
                `--initial-advertise-peer-urls=${peerUrl}`,
                `--initial-cluster=default=${peerUrl}`,
            ]),
        );
        children.push(
            daemon(dir, "kube-apiserver", [
                `--etcd-servers=${etcdUrl}`,
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                `--secure-port=${PORTS.apiserver}`,
                `--tls-cert-file=${join(dir, "server.crt")}`,
                `--tls-private-key-file=${join(dir, "server.key")}`,
                `--client-ca-file=${join(dir, "ca.crt")}`,
                `--kubelet-client-certificate=${join(dir, "admin.crt")}`,
                `--kubelet-client-key=${join(dir, "admin.key")}`,
                `--service-account-key-file=${join(dir, "sa.pub")}`,
                `--service-account-signing-key-file=${join(dir, "sa.key")}`,
                "--service-account-issuer=https://kubernetes.default.svc",
                "--service-cluster-ip-range=10.96.0.0/24",
                "--authorization-mode=Node,RBAC",
                `--admission-control-config-file=${join(dir, "admission.yaml")}`,
                // One apiserver, no Service endpoints to reconcile on loopback.
                "--endpoint-reconciler-type=none",
            ]),
        );
        const log = join(dir, "kube-apiserver.log");
        await waitFor("kube-apiserver", () => tryKubectl(["get", "--raw", "/readyz"]).output.trim() === "ok", 90, log);
        // Without the garbage collector foreground deletes (the provider's) never finish.
        children.push(
            daemon(dir, "kube-controller-manager", [
                `--kubeconfig=${kubeconfig}`,
                "--bind-address=127.0.0.1",
                `--secure-port=${PORTS.controllerManager}`,
                `--service-account-private-key-file=${join(dir, "sa.key")}`,
                `--root-ca-file=${join(dir, "ca.crt")}`,
                `--cluster-signing-cert-file=${join(dir, "ca.crt")}`,
                `--cluster-signing-key-file=${join(dir, "ca.key")}`,
                "--use-service-account-credentials=false",
                "--leader-elect=false",
            ]),
        );
        if (options.scheduler) {
            children.push(
                daemon(dir, "kube-scheduler", [
                    `--kubeconfig=${kubeconfig}`,
                    "--bind-address=127.0.0.1",
                    `--secure-port=${PORTS.scheduler}`,
                    "--leader-elect=false",
                ]),
            );
        }
        // The default ServiceAccount comes from the controller-manager: pods cannot be created before it.
        await waitFor(
            "the default ServiceAccount",
            () => tryKubectl(["get", "serviceaccount", "default", "-n", "default"]).status === 0,
            60,
            join(dir, "kube-controller-manager.log"),
        );
    } catch (e) {
        stop();
        throw e;
    }
    return {
        dir,
        kubeconfig,
        server,
        kubectl,
        tryKubectl,
        stop: () => {
            stop();
            if (!process.env.KEEP_K8S) rmSync(dir, { recursive: true, force: true });
        },
    };
}
