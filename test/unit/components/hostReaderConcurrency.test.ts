import { strict as assert } from "node:assert";
import { AddressInfo } from "node:net";
import { Server, utils } from "ssh2";
import { SshHostReader, concurrentReads } from "../../../components/hostReader";
import { probeFixture } from "../../helpers/paths";

/**
 * A stand-in SSH server on 127.0.0.1 (ssh2's own Server): any key logs in, and every exec answers, after 150 ms, what
 * the snapshot script prints on a host without a GPU. It counts the execs running at once.
 */
function standInServer(): Promise<{ port: number; hostKey: string; maxInFlight: () => number; close: () => void }> {
    const key = utils.generateKeyPairSync("ed25519");
    let inFlight = 0;
    let max = 0;
    const server = new Server({ hostKeys: [key.private] }, (client) => {
        client.on("authentication", (ctx) => ctx.accept());
        client.on("ready", () => {
            client.on("session", (accept) => {
                accept().on("exec", (acceptExec) => {
                    const stream = acceptExec();
                    inFlight++;
                    max = Math.max(max, inFlight);
                    setTimeout(() => {
                        inFlight--;
                        stream.write(`${probeFixture("debian12-no-gpu.json")}\n--- pulumi-nvidia-gpu files ---\n`);
                        stream.exit(0);
                        stream.end();
                    }, 150);
                });
            });
        });
        client.on("error", () => undefined);
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () =>
            resolve({
                port: (server.address() as AddressInfo).port,
                hostKey: key.public.trim().split(/\s+/).slice(0, 2).join(" "),
                maxInFlight: () => max,
                close: () => server.close(),
            }),
        ),
    );
}

describe("SshHostReader reads a fleet a few hosts at a time (issue 24: 50 reads at once ran past their time-out)", () => {
    it("never has more reads running than its limit, and every read completes", async () => {
        const server = await standInServer();
        try {
            const reader = new SshHostReader(10000, 2);
            const privateKey = utils.generateKeyPairSync("ed25519").private;
            const connection = { host: "127.0.0.1", port: server.port, user: "root", privateKey, hostKey: server.hostKey };
            const snapshots = await Promise.all(Array.from({ length: 6 }, () => reader.snapshot(connection, [])));
            assert.equal(snapshots.length, 6);
            assert.ok(snapshots.every((s) => s.facts.os.id === "debian"));
            assert.equal(server.maxInFlight(), 2);
        } finally {
            server.close();
        }
    });

    it("takes its limit from PULUMI_NVIDIA_GPU_CONCURRENT_READS, and refuses a value that is not a whole number, naming it", () => {
        assert.equal(concurrentReads({}), 16);
        assert.equal(concurrentReads({ PULUMI_NVIDIA_GPU_CONCURRENT_READS: "4" }), 4);
        for (const bad of ["0", "-1", "2.5", "many"]) {
            assert.throws(
                () => concurrentReads({ PULUMI_NVIDIA_GPU_CONCURRENT_READS: bad }),
                /PULUMI_NVIDIA_GPU_CONCURRENT_READS: is .*not a whole number.*e\.g\. 16/,
            );
        }
    });
});
