import { SpawnSyncReturns, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sshKey } from "./fleet";

/** This machine's docker CLI in a config folder of its own, as the README's "Remote Docker" uses it against fleet nodes. */
export interface RemoteDockerCli {
    /** Runs `docker …` here (the CLI's SSH helper gets the fleet key). */
    docker(...args: string[]): SpawnSyncReturns<string>;
    /** `docker context create <name> --docker host=<dockerHost>`, as the README writes it; throws on failure. */
    createContext(name: string, dockerHost: string): void;
    cleanup(): void;
}

/**
 * The docker CLI's `ssh://` transport runs `ssh … docker system dial-stdio` on the node; a wrapper named `ssh` first on
 * PATH gives it the fleet key and skips host-key prompts (127.0.0.1 only). DOCKER_CONFIG keeps the contexts out of ~/.docker.
 */
export function remoteDockerCli(): RemoteDockerCli {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "docker-remote-"));
    fs.writeFileSync(path.join(dir, "id"), sshKey().privateKey, { mode: 0o600 });
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(
        path.join(dir, "bin", "ssh"),
        `#!/bin/sh\nexec /usr/bin/ssh -i ${dir}/id -o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR "$@"\n`,
        { mode: 0o755 },
    );
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, DOCKER_CONFIG: path.join(dir, "config") };
    delete env.DOCKER_HOST;
    delete env.DOCKER_CONTEXT;
    const docker = (...args: string[]) => spawnSync("docker", args, { encoding: "utf8", env, timeout: 60000 });
    return {
        docker,
        createContext(name, dockerHost) {
            const r = docker("context", "create", name, "--docker", `host=${dockerHost}`);
            if (r.status !== 0) throw new Error(`docker context create ${name}: ${r.stderr}`);
        },
        cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}
