import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../helpers/paths";
import { runCli } from "../../helpers/runCli";

describe("gpu-node plan (offline, Pulumi mocks)", function () {
    this.timeout(60000);
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("plans the bundled example stack: steps, pinned packages, file diffs, restarts, Kubernetes objects; exit 2 for changes", async () => {
        const r = await runCli("plan", "--stack", "example", "--root", REPO_ROOT);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stdout, /^== gpu-docker-1 \(192\.0\.2\.10\)$/m);
        // The recorded H100's driver 580.159.04 is owned by no package: branch 580 keeps it, nothing installed (issue 23).
        assert.match(r.stdout, /Packages: nvidia-container-toolkit=1\.20\.0-1/);
        assert.match(r.stdout, /info: driver 580\.159\.04 \(no package owns it\) satisfies branch 580: nothing is installed and no reboot is needed/);
        assert.match(r.stdout, /Restarts: docker \(only if its configuration changes\)/);
        assert.match(r.stdout, /^ {4}\+ {4}"cdi": true$/m);
        assert.match(r.stdout, /^ {4}\+imports = \["\/etc\/containerd\/conf\.d\/\*\.toml"\]$/m);
        assert.match(r.stdout, /== workstation \(192\.0\.2\.12\)\nunknown: no facts in the stack config/);
        assert.match(r.stdout, /kubernetes:apps\/v1:DaemonSet gpu-support-device-plugin/);
    });

    it("writes markdown for a PR comment", async () => {
        const r = await runCli("plan", "--stack", "example", "--root", REPO_ROOT, "--format", "markdown");
        assert.match(r.stdout, /^### gpu-node plan: stack `example`$/m);
        assert.match(r.stdout, /<details><summary><code>\/etc\/docker\/daemon\.json<\/code>/);
        assert.match(r.stdout, /```diff\n--- a\/etc\/docker\/daemon\.json/);
    });

    it("exits 0 against its own JSON baseline, and 2 with the diff when the config changes", async () => {
        const baseline = path.join(dir, "baseline.json");
        const json = await runCli("plan", "--stack", "example", "--root", REPO_ROOT, "--format", "json", "--out", baseline);
        assert.equal(json.code, 2);
        assert.equal(JSON.parse(fs.readFileSync(baseline, "utf8")).nodes.length, 3);
        const same = await runCli("plan", "--stack", "example", "--root", REPO_ROOT, "--baseline", baseline);
        assert.equal(same.code, 0, same.stdout);
        assert.match(same.stdout, /0 with changes since the baseline/);

        for (const f of ["Pulumi.yaml", "examples"]) fs.cpSync(path.join(REPO_ROOT, f), path.join(dir, f), { recursive: true });
        fs.writeFileSync(
            path.join(dir, "Pulumi.pr.yaml"),
            fs.readFileSync(path.join(REPO_ROOT, "Pulumi.example.yaml"), "utf8").replace("version: 1.20.0-1", "version: 1.19.0-1"),
        );
        const changed = await runCli("plan", "--stack", "pr", "--root", dir, "--baseline", baseline);
        assert.equal(changed.code, 2);
        assert.match(changed.stdout, /steps, packages or restarts changed/);
        assert.match(changed.stdout, /nvidia-container-toolkit=1\.19\.0-1/);
    });

    it("matches the committed baseline of the example stack (refresh it with --format json --out examples/plan-baseline.json)", async () => {
        const r = await runCli("plan", "--stack", "example", "--root", REPO_ROOT, "--baseline", path.join(REPO_ROOT, "examples/plan-baseline.json"));
        assert.equal(r.code, 0, r.stdout);
    });

    describe("a node that cannot be planned: one line on stderr whatever --format and --out say, and its row in the report (issue 26)", () => {
        const stack = (root: string) => {
            fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
            fs.writeFileSync(
                path.join(root, "Pulumi.bad.yaml"),
                "config:\n  nvidia-gpu-fleet:nodes:\n    - name: gpu-1\n      host: 192.0.2.10\n      runtme: docker\n",
            );
        };
        const expected = /^gpu-node plan: node gpu-1 \(192\.0\.2\.10\): config nodes\[0\]\.runtme: is not a field — did you mean runtime\?/;
        for (const format of ["text", "markdown", "json"]) {
            for (const toFile of [false, true]) {
                it(`--format ${format}${toFile ? " --out FILE" : ""}`, async () => {
                    stack(dir);
                    const out = path.join(dir, "report");
                    const r = await runCli("plan", "--stack", "bad", "--root", dir, "--format", format, ...(toFile ? ["--out", out] : []));
                    assert.equal(r.code, 1, r.stderr);
                    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, JSON.stringify(r.stderr));
                    assert.match(r.stderr, expected);
                    const report = toFile ? fs.readFileSync(out, "utf8") : r.stdout;
                    if (toFile) assert.equal(r.stdout, "");
                    assert.match(report, /nodes\[0\]\.runtme: is not a field/, "the report keeps the node's row");
                });
            }
        }
    });

    it("exits 1 with one line for a missing stack, and needs no Pulumi CLI, backend or SSH", async () => {
        const r = await runCli("plan", "--stack", "nope", "--root", REPO_ROOT);
        assert.equal(r.code, 1);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /no Pulumi\.nope\.yaml/);
    });
});
