import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../helpers/paths";
import { CREDENTIAL_FIELDS, SCHEMA_FILE, schemaText } from "../../../tools/schema/generateSchema";

interface Property {
    description?: string;
    secret?: boolean;
    $ref?: string;
    items?: Property;
    additionalProperties?: Property;
}
interface SchemaObject {
    description?: string;
    properties?: Record<string, Property>;
    inputProperties?: Record<string, Property>;
    enum?: Array<{ name: string; value: string }>;
}
interface Schema {
    name: string;
    version: string;
    resources: Record<string, SchemaObject>;
    types: Record<string, SchemaObject>;
}

const schema = (): Schema => JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")) as Schema;
const pkg = () => JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));

describe("the package (issue 15)", () => {
    describe("schema.json", () => {
        it("is what Pulumi's analyzer infers from the sources today (run `npm run schema` after changing an args or output)", function () {
            this.timeout(120000);
            assert.equal(fs.readFileSync(SCHEMA_FILE, "utf8"), schemaText(), "schema.json is out of date: run `npm run schema` and commit it");
        });

        it("names the package as the type tokens do, and has every component the index exports", () => {
            const s = schema();
            assert.equal(s.name, pkg().pulumi.name);
            assert.equal(s.version, pkg().version);
            assert.deepEqual(
                Object.keys(s.resources).sort(),
                [
                    "CdiSpec",
                    "ContainerToolkit",
                    "ContainerdRuntime",
                    "CrioRuntime",
                    "DockerGpuContainer",
                    "DockerRuntime",
                    "GpuNode",
                    "GpuWorkload",
                    "KubernetesGpuSupport",
                    "NvidiaDriver",
                ].map((c) => `nvidia-gpu:index:${c}`),
            );
        });

        it("describes every input and output, and every object type's fields", () => {
            const missing: string[] = [];
            for (const [token, object] of [...Object.entries(schema().resources), ...Object.entries(schema().types)]) {
                if (!object.description && object.enum === undefined) missing.push(token);
                for (const [kind, properties] of [
                    ["input", object.inputProperties],
                    ["output", object.properties],
                ] as const) {
                    for (const [name, property] of Object.entries(properties ?? {})) if (!property.description) missing.push(`${token} ${kind} ${name}`);
                }
            }
            assert.deepEqual(missing, []);
        });

        it("marks every credential input secret", () => {
            const connection = schema().types["nvidia-gpu:index:NodeConnectionArgs"].properties!;
            for (const field of CREDENTIAL_FIELDS) assert.equal(connection[field].secret, true, field);
            assert.equal(connection.host.secret, undefined, "the host is not a secret");
        });

        it("has no output that holds, even deep down, a connection or a credential", () => {
            const s = schema();
            const reaches = (property: Property, seen: Set<string>): string[] => {
                const nested = [property.items, property.additionalProperties].filter((p): p is Property => p !== undefined).flatMap((p) => reaches(p, seen));
                const ref = property.$ref?.replace(/^#\/types\//, "");
                if (ref === undefined || seen.has(ref)) return nested;
                seen.add(ref);
                const fields = Object.entries(s.types[ref]?.properties ?? {});
                return [
                    ...nested,
                    ...fields.flatMap(([name, p]) => [
                        ...(CREDENTIAL_FIELDS.includes(name) || name === "connection" ? [`${ref}.${name}`] : []),
                        ...reaches(p, seen),
                    ]),
                ];
            };
            for (const [token, resource] of Object.entries(s.resources)) {
                for (const [name, property] of Object.entries(resource.properties ?? {})) {
                    assert.ok(!CREDENTIAL_FIELDS.includes(name) && name !== "connection", `${token} has an output ${name}`);
                    assert.deepEqual(reaches(property, new Set()), [], `${token}.${name}`);
                }
            }
        });

        it("gives Finding.severity, and each runtime, as an enum", () => {
            const types = schema().types;
            assert.deepEqual(
                types["nvidia-gpu:index:Severity"].enum!.map((e) => e.value),
                ["error", "warning", "info"],
            );
            assert.equal(types["nvidia-gpu:index:Finding"].properties!.severity.$ref, "#/types/nvidia-gpu:index:Severity");
            assert.deepEqual(
                types["nvidia-gpu:index:ContainerRuntime"].enum!.map((e) => e.value),
                ["docker", "docker-rootless", "containerd", "crio", "cdi", "podman"],
            );
        });
    });

    describe("npm pack", () => {
        it("ships the built JavaScript, its types, the schema, the provider and the licence: no tests, fixtures, .tmp, bench or sources", function () {
            this.timeout(120000);
            const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO_ROOT, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
            const forbidden = files.filter(
                (f) =>
                    /^(test|bench|examples|tools|\.tmp|\.ci|sdk|components|cli|program)\//.test(f) ||
                    (f.endsWith(".ts") && !f.endsWith(".d.ts")) ||
                    /fixtures|\.mocharc|tsconfig/.test(f),
            );
            assert.deepEqual(forbidden, []);
            for (const needed of [
                "dist/index.js",
                "dist/index.d.ts",
                "dist/provider.js",
                "dist/cli/main.js",
                "dist/sdk/host/probe.sh",
                "dist/sdk/cuda/cuda-driver-table.json",
                "schema.json",
                "pulumi-resource-nvidia-gpu",
                "bin/gpu-node",
                "LICENSE",
                "README.md",
                "CHANGELOG.md",
                "package.json",
            ]) {
                assert.ok(files.includes(needed), `${needed} is not in the package`);
            }
        });

        it("ships no PulumiPlugin.yaml: the nvidia-gpu plugin is the one route for other languages (issue 26)", function () {
            // Pulumi's source-plugin loader (@pulumi/pulumi cmd/run-plugin) names the package after package.json's
            // `name`, pulumi-nvidia-gpu, which matches none of the schema's nvidia-gpu tokens.
            this.timeout(120000);
            assert.equal(fs.existsSync(path.join(REPO_ROOT, "PulumiPlugin.yaml")), false);
            assert.ok(!(pkg().files as string[]).includes("PulumiPlugin.yaml"));
            const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
            assert.doesNotMatch(readme, /rm plugin\/PulumiPlugin\.yaml/, "the README's plugin steps still remove the file");
            assert.match(readme, /The source-plugin route \(`pulumi package add`, a `PulumiPlugin\.yaml`\) is not supported/);
        });

        it("points main, types and exports at files the build writes", () => {
            const p = pkg();
            assert.equal(p.main, "dist/index.js");
            assert.equal(p.types, "dist/index.d.ts");
            assert.equal(p.exports["."].default, "./dist/index.js");
            assert.deepEqual(fs.readFileSync(path.join(REPO_ROOT, "tsconfig.build.json"), "utf8").includes('"outDir": "dist"'), true);
        });
    });

    it("has a LICENSE that is the licence package.json names", () => {
        assert.equal(pkg().license, "Apache-2.0");
        const text = fs.readFileSync(path.join(REPO_ROOT, "LICENSE"), "utf8");
        assert.match(text, /Apache License\s+Version 2\.0, January 2004/);
        assert.match(text, /END OF TERMS AND CONDITIONS/);
    });
});
