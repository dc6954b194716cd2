import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync } from "node:child_process";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/paths";
import { FleetNode, REPO_DIR, fingerprint, nodeExec, sshRun, startNode, startRepoServer, stopNode } from "./fleet";

const REPO_PORT = 18090;
const VERSION = "1.20.0-1";
const PACKAGES = "nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1";
const atVersion = (v: string) => [
    `libnvidia-container-tools ${v}`,
    `libnvidia-container1 ${v}`,
    `nvidia-container-toolkit ${v}`,
    `nvidia-container-toolkit-base ${v}`,
];

/** What a user does on a host Pulumi does not reach: `gpu-node script toolkit … | sudo sh`. */
const NODES = [
    {
        manager: "apt",
        name: "gpu-e2e-script-apt",
        image: "gpu-e2e-docker",
        port: 2211,
        setup: "",
        versions: `dpkg-query -W -f '\${db:Status-Abbrev} \${Package} \${Version}\\n' ${PACKAGES} 2>/dev/null | sed -n 's/^ii  *//p' || true`,
    },
    {
        manager: "dnf",
        name: "gpu-e2e-script-dnf",
        image: "gpu-e2e-rpm",
        port: 2212,
        setup: `printf 'ID="rhel"\\nVERSION_ID="9.4"\\nID_LIKE="fedora"\\nPRETTY_NAME="Red Hat Enterprise Linux 9.4"\\n' > /etc/os-release`,
        versions: `dnf -q repoquery --installed --qf '%{name} %{version}-%{release}' ${PACKAGES} 2>/dev/null || true`,
    },
];

/** The script as bin/gpu-node prints it, run as its own process like a user's shell would. */
function printedScript(manager: string): string {
    return execFileSync(
        path.join(REPO_ROOT, "bin/gpu-node"),
        ["script", "toolkit", "--pm", manager, "--version", VERSION, "--repo-url", `http://127.0.0.1:${REPO_PORT}`, "--key-fingerprint", fingerprint()],
        { encoding: "utf8" },
    );
}

for (const target of NODES) {
    describe(`e2e: gpu-node script toolkit --pm ${target.manager} | sh, on a fresh node`, function () {
        this.timeout(900000);
        let server: ChildProcess;
        let node: FleetNode;
        const versions = () =>
            nodeExec(node.name, target.versions)
                .trim()
                .split("\n")
                .map((l) => l.trim())
                .filter(Boolean)
                .sort();

        before(async () => {
            server = await startRepoServer(REPO_DIR, REPO_PORT);
            node = startNode(target.name, target.image, target.port, target.setup);
        });
        after(() => {
            server?.kill();
            stopNode(target.name);
        });

        it(`runs every step, past the ones with nothing to do, and installs the four packages at ${VERSION}`, async () => {
            const script = printedScript(target.manager);
            const r = await sshRun(node.connection, "sh", script);
            assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
            for (const step of ["toolkit-prerequisites", "toolkit-key", "toolkit-repo", "toolkit-packages"])
                assert.match(r.stdout, new RegExp(`== step \\d/4: ${step}\\n`), step);
            assert.match(r.stdout, /== done: 4 steps/);
            assert.deepEqual(versions(), atVersion(VERSION));
        });

        it("runs again with every step unchanged, and still reaches the last one", async () => {
            const r = await sshRun(node.connection, "sh", printedScript(target.manager));
            assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
            assert.match(r.stdout, /== step 4\/4: toolkit-packages\nunchanged/);
            assert.deepEqual(versions(), atVersion(VERSION));
        });

        it("stops at a failing step and names it: a wrong key fingerprint stops before the repository and the packages", async () => {
            nodeExec(
                node.name,
                target.manager === "apt"
                    ? "rm -f /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
                    : "rm -f /etc/pki/rpm-gpg/RPM-GPG-KEY-nvidia-container-toolkit",
            );
            const wrong = printedScript(target.manager).replace(`fingerprint=${fingerprint()}`, `fingerprint=${"0".repeat(40)}`);
            const r = await sshRun(node.connection, "sh", wrong);
            assert.equal(r.code, 11, r.stderr);
            assert.match(r.stderr, /error: step 2\/4 \(toolkit-key\) failed with exit status 11; the steps after it did not run/);
            assert.doesNotMatch(r.stdout, /step 3\/4/);
        });
    });
}
