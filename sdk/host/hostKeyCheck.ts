import { GpuConfigError } from "../errors";

const ASK_FOR_MODERN_KEY =
    "give the host's ed25519 or ECDSA public key instead (`ssh-keyscan -t ed25519 HOST`, or /etc/ssh/ssh_host_ed25519_key.pub on the host)";

/**
 * Refuses a `hostKey` that pulumi-command 1.2.1 cannot use, before anything runs. It parses the key with
 * ssh.ParseAuthorizedKey, so "" fails ("failed to parse host key"), and it offers only the key's type name as host
 * key algorithm: for RSA that is ssh-rsa, SHA-1 signatures, which OpenSSH 8.8 and later refuse ("no common
 * algorithm for host key", after every dial retry). DSA keys are off by default since OpenSSH 7.0.
 */
export function validateHostKey(hostKey: string | undefined, field = "connection.hostKey"): string | undefined {
    if (hostKey === undefined) return undefined;
    const type = hostKey.trim().split(/\s+/)[0] ?? "";
    if (type === "")
        throw new GpuConfigError(
            field,
            'is empty, and pulumi-command 1.2.1 fails on an empty host key ("failed to parse host key")',
            `leave it unset, or ${ASK_FOR_MODERN_KEY}`,
        );
    if (type === "ssh-rsa" || type.startsWith("rsa-sha2-"))
        throw new GpuConfigError(
            field,
            'is an RSA key: pulumi-command 1.2.1 negotiates RSA host keys only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse ("no common algorithm for host key")',
            ASK_FOR_MODERN_KEY,
        );
    if (type === "ssh-dss") throw new GpuConfigError(field, "is a DSA key, which OpenSSH 7.0 and later do not offer", ASK_FOR_MODERN_KEY);
    return hostKey;
}
