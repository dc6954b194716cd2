import { Client, ConnectConfig } from "ssh2";
import { GpuConfigError } from "../sdk/errors";
import { ResolvedConnection } from "./connection";

export interface SshResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** `ssh-ed25519 AAAA… [comment]` → the key blob that ssh2 hands to hostVerifier. */
export function hostKeyBlob(hostKey: string): Buffer {
    const parts = hostKey.trim().split(/\s+/);
    const base64 = parts.length >= 2 ? parts[1] : parts[0];
    if (!/^[A-Za-z0-9+/]+=*$/.test(base64)) {
        throw new GpuConfigError(
            "connection.hostKey",
            "is not an OpenSSH public key",
            "copy the key line from `ssh-keyscan HOST` without the host name, e.g. `ssh-ed25519 AAAA…`",
        );
    }
    return Buffer.from(base64, "base64");
}

/** Asks the server for the pinned key's own type, so a host with several keys presents the pinned one. */
export function hostKeyAlgorithms(hostKey: string | undefined): string[] | undefined {
    const type = hostKey?.trim().split(/\s+/)[0];
    if (!type || !type.includes("-")) return undefined;
    return type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
}

/**
 * Runs one command over SSH with ssh2 and collects its output. With a pinned `hostKey` any other key is
 * refused, as `@pulumi/command` refuses it. The one ssh2 session code of the library and its e2e runner.
 */
export function sshExec(
    connection: ResolvedConnection,
    command: string,
    options: { stdin?: string; readyTimeoutMs?: number; timeoutMs?: number } = {},
): Promise<SshResult> {
    const pinned = connection.hostKey ? hostKeyBlob(connection.hostKey) : undefined;
    const serverHostKey = hostKeyAlgorithms(connection.hostKey);
    const config: ConnectConfig = {
        host: connection.host,
        port: connection.port,
        username: connection.user,
        privateKey: connection.privateKey,
        passphrase: connection.privateKeyPassword,
        password: connection.password,
        agent: connection.privateKey || connection.password ? undefined : (connection.agentSocketPath ?? process.env.SSH_AUTH_SOCK),
        readyTimeout: options.readyTimeoutMs ?? 20000,
        hostVerifier: pinned ? (key: Buffer) => key.equals(pinned) : undefined,
        algorithms: serverHostKey ? { serverHostKey: serverHostKey as never } : undefined,
    };
    const timeoutMs = options.timeoutMs ?? 600000;
    return new Promise((resolve, reject) => {
        const client = new Client();
        const timer = setTimeout(() => {
            client.end();
            reject(new Error(`${connection.host}: the command did not finish within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        client
            .on("ready", () => {
                client.exec(command, (error, stream) => {
                    if (error) {
                        clearTimeout(timer);
                        return reject(error);
                    }
                    let stdout = "";
                    let stderr = "";
                    stream.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
                    stream.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
                    stream.on("close", (code: number | null) => {
                        clearTimeout(timer);
                        client.end();
                        resolve({ code: code ?? -1, stdout, stderr });
                    });
                    stream.end(options.stdin);
                });
            })
            .on("error", (error) => {
                clearTimeout(timer);
                const hint = /verification failed/i.test(error.message) ? ": the host key is not the pinned connection.hostKey" : "";
                reject(new Error(`cannot reach ${connection.host}:${connection.port} over SSH: ${error.message}${hint}`));
            })
            .connect(config);
    });
}
