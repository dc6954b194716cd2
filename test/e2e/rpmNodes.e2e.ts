import { strict as assert } from "node:assert";
import { ChildProcess } from "node:child_process";
import { watchedFiles } from "../../components/gpuNode";
import { NodeSpec, nodePlan } from "../../sdk/node/nodePlan";
import { nodeSpecOf } from "../../sdk/node/nodeSpec";
import { FleetNode, REPO_DIR, failed, applySteps, fingerprint, nodeExec, snapshot, startNode, startRepoServer, stopNode } from "./fleet";

const REPO_PORT = 18082;
const PACKAGES = "nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1";
const NODES = [
    {
        manager: "dnf",
        name: "gpu-e2e-dnf1",
        port: 2203,
        osRelease: 'ID="rhel"\\nVERSION_ID="9.4"\\nID_LIKE="fedora"\\nPRETTY_NAME="Red Hat Enterprise Linux 9.4"',
    },
    {
        manager: "zypper",
        name: "gpu-e2e-zypper1",
        port: 2204,
        osRelease: 'ID="opensuse-leap"\\nVERSION_ID="15.6"\\nID_LIKE="suse opensuse"\\nPRETTY_NAME="openSUSE Leap 15.6"',
    },
];

for (const target of NODES) {
    describe(`e2e: a ${target.manager} node over SSH (Debian's ${target.manager} and rpm, os-release of ${target.manager === "dnf" ? "RHEL" : "openSUSE"})`, function () {
        this.timeout(900000);
        let server: ChildProcess;
        let node: FleetNode;
        const versions = () =>
            nodeExec(
                node.name,
                target.manager === "dnf"
                    ? `dnf -q repoquery --installed --qf '%{name} %{version}-%{release}' ${PACKAGES} 2>/dev/null || true`
                    : `rpm --dbpath /var/lib/rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}\\n' ${PACKAGES} | grep -v 'not installed' || true`,
            )
                .trim()
                .split("\n")
                .filter(Boolean)
                .sort();
        const atVersion = (v: string) => [
            `libnvidia-container-tools ${v}`,
            `libnvidia-container1 ${v}`,
            `nvidia-container-toolkit ${v}`,
            `nvidia-container-toolkit-base ${v}`,
        ];
        const spec = (version: string, experimental = false) =>
            nodeSpecOf({
                runtime: "cdi",
                toolkit: { version, experimental, repoUrl: `http://127.0.0.1:${REPO_PORT}`, keyFingerprint: fingerprint() },
            });
        async function apply(s: NodeSpec) {
            const planned = nodePlan(await snapshot(node.connection, watchedFiles(s)), s);
            return applySteps(node.connection, planned.plan.steps);
        }

        before(async () => {
            server = await startRepoServer(REPO_DIR, REPO_PORT);
            node = startNode(target.name, "gpu-e2e-rpm", target.port, `printf '${target.osRelease}\\n' > /etc/os-release`);
        });
        after(() => {
            server?.kill();
            stopNode(target.name);
        });

        it(`picks ${target.manager} and installs all four packages at 1.19.0-1, then writes the CDI spec`, async () => {
            const facts = (await snapshot(node.connection, [])).facts;
            assert.equal(facts.packageManager, target.manager);
            const results = await apply(spec("1.19.0-1"));
            assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
            assert.deepEqual(versions(), atVersion("1.19.0-1"));
            assert.match(results.find((r) => r.name === "cdi-spec")!.stdout, /cdi-device nvidia\.com\/gpu=all/);
        });

        it("re-applies without installing anything", async () => {
            const results = await apply(spec("1.19.0-1"));
            assert.equal(failed(results), undefined);
            assert.match(results.find((r) => r.name === "toolkit-packages")!.stdout, /^unchanged/);
        });

        it("upgrades to 1.20.0-1 and downgrades to 1.17.8-1", async () => {
            assert.equal(failed(await apply(spec("1.20.0-1"))), undefined);
            assert.deepEqual(versions(), atVersion("1.20.0-1"));
            const down = await apply(spec("1.17.8-1"));
            assert.equal(failed(down), undefined, JSON.stringify(failed(down)));
            assert.deepEqual(versions(), atVersion("1.17.8-1"));
        });

        it("installs a release candidate only from the experimental channel", async () => {
            assert.ok(failed(await apply(spec("1.21.0~rc.1-1"))), "not in the stable channel");
            assert.deepEqual(versions(), atVersion("1.17.8-1"));
            const results = await apply(spec("1.21.0~rc.1-1", true));
            assert.equal(failed(results), undefined, JSON.stringify(failed(results)));
            assert.deepEqual(versions(), atVersion("1.21.0~rc.1-1"));
        });
    });
}
