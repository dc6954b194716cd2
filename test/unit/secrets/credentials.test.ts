import { strict as assert } from "node:assert";
import fc from "fast-check";
import { PlanReport, changesOf, formatReport } from "../../../sdk/report/planReport";
import { renderContainerdConfig } from "../../../sdk/runtime/containerdConfig";
import { renderCrioConfig } from "../../../sdk/runtime/crioConfig";
import { renderToolkitConfig } from "../../../sdk/toolkit/toolkitConfig";
import { MASK, findCredentials, hasCredentials, maskCredentialValues, maskCredentials } from "../../../sdk/secrets/credentials";
import { parseToml, plain } from "../../../sdk/toml/parseToml";

/** A containerd 1.x config with registry auth, as kubeadm hosts pulling from a private registry have. */
const CONTAINERD_WITH_AUTH = `version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"

  [plugins."io.containerd.grpc.v1.cri".registry.configs."registry.example.com".auth]
    username = "robot"
    password = "s3cr3t-pw"
    auth = "cm9ib3Q6czNjcjN0LXB3"
    identitytoken = "id-token-value"

  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["https://mirror:m1rr0r@mirror.example.com"]
`;

const SECRETS = ["robot", "s3cr3t-pw", "cm9ib3Q6czNjcjN0LXB3", "id-token-value", "m1rr0r", "hunter2", "pr0xy"];

function assertNoSecret(text: string): void {
    for (const secret of SECRETS) assert.equal(text.includes(secret), false, `${secret} leaked in:\n${text}`);
}

describe("credentials in host configs (issue 14)", () => {
    it("finds containerd registry auth, URL userinfo and credential env values in a parsed config", () => {
        const found = findCredentials(plain(parseToml(CONTAINERD_WITH_AUTH, "config.toml")));
        const byPath = found.map((f) => `${f.kind} ${f.path.join(".")}`).sort();
        assert.deepEqual(byPath, [
            "key plugins.io.containerd.grpc.v1.cri.registry.configs.registry.example.com.auth.auth",
            "key plugins.io.containerd.grpc.v1.cri.registry.configs.registry.example.com.auth.identitytoken",
            "key plugins.io.containerd.grpc.v1.cri.registry.configs.registry.example.com.auth.password",
            "key plugins.io.containerd.grpc.v1.cri.registry.configs.registry.example.com.auth.username",
            "url plugins.io.containerd.grpc.v1.cri.registry.mirrors.docker.io.endpoint.0",
        ]);
        const docker = {
            proxies: { "http-proxy": "http://user:pr0xy@proxy:3128", "no-proxy": "localhost" },
            "registry-mirrors": ["https://mirror.example.com"],
            "data-root": "/var/lib/docker",
        };
        assert.deepEqual(
            findCredentials(docker).map((f) => [f.kind, f.path.join("."), f.value]),
            [["url", "proxies.http-proxy", "user:pr0xy"]],
        );
        assert.deepEqual(
            findCredentials({ env: ["HTTPS_PROXY=http://u:p@h:1", "REGISTRY_PASSWORD=hunter2", "PATH=/usr/bin"] }).map((f) => f.kind),
            ["url", "env"],
        );
        assert.equal(
            hasCredentials({ crio: { image: { global_auth_file: "/etc/crio/auth.json" }, runtime: { default_runtime: "runc" } } }),
            false,
            "paths to auth files are not credentials",
        );
        assert.equal(hasCredentials({ "authorization-plugins": ["authz"], auth: "" }), false);
        assertNoSecret(JSON.stringify(maskCredentialValues(plain(parseToml(CONTAINERD_WITH_AUTH, "c")))));
    });

    it("masks credential values in config text and in diffs, keeping every key", () => {
        const masked = maskCredentials(CONTAINERD_WITH_AUTH);
        assertNoSecret(masked);
        assert.match(masked, /^ {4}username = "\*{8}"$/m);
        assert.match(masked, /^ {4}password = "\*{8}"$/m);
        assert.match(masked, /https:\/\/\*{8}@mirror\.example\.com/);
        assert.match(masked, /sandbox_image = "registry\.k8s\.io\/pause:3\.10"/, "other values stay");
        assert.equal(masked.split("\n").length, CONTAINERD_WITH_AUTH.split("\n").length);

        const json =
            '{\n    "proxies": { "http-proxy": "http://user:pr0xy@proxy:3128" },\n    "auths": { "r": { "auth": "cm9ib3Q6czNjcjN0LXB3", "identitytoken": "id-token-value" } }\n}\n';
        assertNoSecret(maskCredentials(json));
        assert.match(maskCredentials(json), /"auth": "\*{8}"/);
        const inline = `auth = { username = 'robot', password = """s3cr3t-pw""" }\n-password = "hunter2"\n+  environment = ["REGISTRY_TOKEN=hunter2", "HTTP_PROXY=http://robot:pr0xy@p:3128"]\n`;
        assertNoSecret(maskCredentials(inline));
        assert.match(maskCredentials(inline), /username = '\*{8}', password = """\*{8}"""/);
        assert.equal(
            maskCredentials('runtime_type = "io.containerd.runc.v2"\nglobal_auth_file = "/etc/crio/auth.json"\n'),
            'runtime_type = "io.containerd.runc.v2"\nglobal_auth_file = "/etc/crio/auth.json"\n',
        );
    });

    it("masking is idempotent and leaves text without credentials unchanged", () => {
        const plainText = fc.string({ maxLength: 60 }).filter((s) => !/pass|secret|token|auth|user|:\/\/|=/i.test(s));
        fc.assert(
            fc.property(plainText, (s) => assert.equal(maskCredentials(s), s)),
            { numRuns: 300 },
        );
        fc.assert(
            fc.property(fc.string({ maxLength: 60 }), (s) => assert.equal(maskCredentials(maskCredentials(s)), maskCredentials(s))),
            { numRuns: 300 },
        );
    });

    it("plan reports (text, markdown, JSON) show masked diffs; a masked baseline compares equal", () => {
        const { dropIn } = renderContainerdConfig(CONTAINERD_WITH_AUTH);
        assert.match(dropIn.text, /s3cr3t-pw/, "the drop-in copies the CRI section, registry auth included (see hasCredentials)");
        const report: PlanReport = {
            stack: "t",
            nodes: [
                {
                    name: "n",
                    host: "h",
                    status: "planned",
                    plan: {
                        steps: [{ name: "containerd-drop-in", description: "d", rebootRequired: false }],
                        packages: [],
                        restarts: [],
                        findings: [],
                        files: [{ path: dropIn.path, previous: undefined, text: dropIn.text, changed: true, summary: dropIn.summary }],
                    },
                },
            ],
            kubernetes: [],
        };
        for (const format of ["text", "markdown", "json"] as const) {
            const text = formatReport(report, format);
            assertNoSecret(text);
            assert.match(text, /password = \\?"\*{8}\\?"/, format);
        }
        const baseline = JSON.parse(formatReport(report, "json")) as PlanReport;
        assert.equal(changesOf(report, baseline).size, 0, "a masked baseline is not a change");
        for (const change of changesOf(report).values()) for (const f of change.files) assertNoSecret(f.diff);
    });

    it("renderers: toolkit summaries mask proxy credentials; CRI-O flags a drop-in that copies credentials", () => {
        const toolkit = renderToolkitConfig(undefined, [{ key: "nvidia-container-cli.environment", value: ["HTTPS_PROXY=http://robot:pr0xy@proxy:3128"] }]);
        assert.ok(toolkit.summary.length > 0);
        assertNoSecret(toolkit.summary.join("\n"));
        assert.match(toolkit.summary.join("\n"), /http:\/\/\*{8}@proxy:3128/);
        assert.ok(MASK === "********");

        const crio = renderCrioConfig(
            '[crio.runtime.runtimes.runc]\nruntime_path = "/usr/bin/runc"\nmonitor_env = ["HTTPS_PROXY=http://robot:pr0xy@proxy:3128"]\n',
        );
        assert.equal(crio.holdsCredentials, true);
        assert.equal(renderCrioConfig('[crio.runtime.runtimes.runc]\nruntime_path = "/usr/bin/runc"\n').holdsCredentials, undefined);
    });
});
