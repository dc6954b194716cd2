import { Client, ConnectConfig } from "ssh2";
import { GpuConfigError } from "../sdk/errors";
import { HostSnapshot, WatchedFile, parseSnapshot, snapshotScript } from "../sdk/host/snapshot";
import { quote } from "../sdk/shell/shellScript";
import { ResolvedConnection } from "./connection";

/** Reads a host without changing it. Components take it as an option, so tests inject a fake. */
export interface HostReader {
    snapshot(connection: ResolvedConnection, files: WatchedFile[]): Promise<HostSnapshot>;
}

/**
 * The real reader: one `ssh2` session per host that runs the read-only snapshot script. With a
 * pinned `hostKey` any other key is refused, as `@pulumi/command` refuses it.
 */
export class SshHostReader implements HostReader {
    constructor(private readonly timeoutMs = 30000) {}

    async snapshot(connection: ResolvedConnection, files: WatchedFile[]): Promise<HostSnapshot> {
        const output = await runReadOnly(connection, snapshotScript(files), this.timeoutMs);
        return parseSnapshot(output, connection.host);
    }
}

/** `ssh-ed25519 AAAA… [comment]` → the key blob that ssh2 hands to hostVerifier. */
export function hostKeyBlob(hostKey: string): Buffer {
    const parts = hostKey.trim().split(/\s+/);
    const base64 = parts.length >= 2 ? parts[1] : parts[0];
    if (!/^[A-Za-z0-9+/]+=*$/.test(base64)) {
        throw new GpuConfigError("connection.hostKey", "is not an OpenSSH public key", "copy the key line from `ssh-keyscan HOST` without the host name, e.g. `ssh-ed25519 AAAA…`");
    }
    return Buffer.from(base64, "base64");
}

/** Asks the server for the pinned key's own type, so a host with several keys presents the pinned one. */
export function hostKeyAlgorithms(hostKey: string | undefined): string[] | undefined {
    const type = hostKey?.trim().split(/\s+/)[0];
    if (!type || !type.includes("-")) return undefined;
    return type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
}

export function runReadOnly(connection: ResolvedConnection, script: string, timeoutMs: number): Promise<string> {
    const pinned = connection.hostKey ? hostKeyBlob(connection.hostKey) : undefined;
    const config: ConnectConfig = {
        host: connection.host,
        port: connection.port,
        username: connection.user,
        privateKey: connection.privateKey,
        passphrase: connection.privateKeyPassword,
        password: connection.password,
        agent: connection.privateKey || connection.password ? undefined : connection.agentSocketPath ?? process.env.SSH_AUTH_SOCK,
        readyTimeout: timeoutMs,
        hostVerifier: pinned ? (key: Buffer) => key.equals(pinned) : undefined,
        algorithms: hostKeyAlgorithms(connection.hostKey) ? { serverHostKey: hostKeyAlgorithms(connection.hostKey) as never } : undefined,
    };
    return new Promise((resolve, reject) => {
        const client = new Client();
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => {
            client.end();
            reject(new Error(`reading ${connection.host} timed out after ${timeoutMs / 1000} s`));
        }, timeoutMs * 2);
        client
            .on("ready", () => {
                client.exec(`sh -c ${quote(script)}`, (error, stream) => {
                    if (error) return reject(error);
                    stream.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
                    stream.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
                    stream.on("close", (code: number) => {
                        clearTimeout(timer);
                        client.end();
                        if (code === 0) resolve(stdout);
                        else reject(new Error(`reading ${connection.host} failed (exit ${code}): ${stderr.trim().split("\n").pop() ?? ""}`));
                    });
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
