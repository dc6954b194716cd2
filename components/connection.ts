import * as pulumi from "@pulumi/pulumi";
import { types } from "@pulumi/command";
import { validateHostKey } from "../sdk/host/hostKeyCheck";
import { validateNoNulDeep, validateSudoPassword } from "../sdk/validate";

/**
 * How to reach a GPU host over SSH. The same settings drive `@pulumi/command` and this library's own
 * read-only `ssh2` session, so a pinned `hostKey` is verified by both.
 */
export interface NodeConnectionArgs {
    /** Address of the host. */
    host: pulumi.Input<string>;
    /** SSH port. Default 22. */
    port?: pulumi.Input<number>;
    /** SSH user. Default `root`. A non-root user needs sudo: passwordless, or with `sudoPassword`. */
    user?: pulumi.Input<string>;
    /** Private key (OpenSSH or PEM text). Kept secret. Mutually exclusive with `password`; without both, the SSH agent is used. */
    privateKey?: pulumi.Input<string>;
    /** Passphrase of `privateKey`. Kept secret. */
    privateKeyPassword?: pulumi.Input<string>;
    /** SSH password. Kept secret. */
    password?: pulumi.Input<string>;
    /** SSH agent socket. Default `$SSH_AUTH_SOCK`. */
    agentSocketPath?: pulumi.Input<string>;
    /**
     * The host's public key, as in `known_hosts` without the host name (`ssh-ed25519 AAAA…`). When set, both
     * the commands and the read-only preview session refuse any other key. Strongly recommended. An ed25519 or
     * ECDSA key: an RSA key is refused, because pulumi-command 1.2.1 negotiates it only as ssh-rsa (SHA-1), which
     * OpenSSH 8.8 and later refuse; an empty string is refused too (unset means no pinning).
     */
    hostKey?: pulumi.Input<string>;
    /** Password for `sudo` when `user` is not root and sudo asks for one. Sent on stdin only; kept secret. */
    sudoPassword?: pulumi.Input<string>;
    /** How often to retry dialing (waits for a host that is booting or rebooting). Default 30; -1 retries forever. */
    dialErrorLimit?: pulumi.Input<number>;
    /** Seconds per dial attempt. Default 15. */
    perDialTimeout?: pulumi.Input<number>;
}

/** The connection with every value known, as the host reader needs it. */
export interface ResolvedConnection {
    host: string;
    port: number;
    user: string;
    privateKey?: string;
    privateKeyPassword?: string;
    password?: string;
    agentSocketPath?: string;
    hostKey?: string;
    sudoPassword?: string;
}

/** The `@pulumi/command` connection: credentials wrapped as secrets, never the sudo password. */
export function commandConnection(args: NodeConnectionArgs): types.input.remote.ConnectionArgs {
    const secret = <T>(v: pulumi.Input<T> | undefined) => (v === undefined ? undefined : pulumi.secret(v));
    return {
        host: args.host,
        port: args.port ?? 22,
        user: args.user ?? "root",
        privateKey: secret(args.privateKey),
        privateKeyPassword: secret(args.privateKeyPassword),
        password: secret(args.password),
        agentSocketPath: args.agentSocketPath,
        hostKey: args.hostKey === undefined ? undefined : pulumi.output(args.hostKey).apply((k) => validateHostKey(k) ?? k),
        dialErrorLimit: args.dialErrorLimit ?? 30,
        perDialTimeout: args.perDialTimeout ?? 15,
    };
}

/**
 * The connection with every value known; a NUL in any field, or a line break in `sudoPassword` (which would end
 * the password line of the command's stdin and run the rest as root), is refused by name. No value is echoed:
 * it may be a key or a password. A secret input keeps the whole result secret.
 */
export function resolveConnection(args: NodeConnectionArgs): pulumi.Output<ResolvedConnection> {
    return pulumi
        .output(args)
        .apply((c) => validateNoNulDeep({ ...c }, "connection"))
        .apply((c) => {
            if (c.sudoPassword !== undefined) validateSudoPassword(c.sudoPassword, "connection.sudoPassword");
            validateHostKey(c.hostKey);
            return c;
        })
        .apply((c) => ({
            host: c.host,
            port: c.port ?? 22,
            user: c.user ?? "root",
            privateKey: c.privateKey,
            privateKeyPassword: c.privateKeyPassword,
            password: c.password,
            agentSocketPath: c.agentSocketPath,
            hostKey: c.hostKey,
            sudoPassword: c.sudoPassword,
        }));
}
