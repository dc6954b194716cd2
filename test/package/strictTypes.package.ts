import { strict as assert } from "node:assert";
import { installPackage, project, typeCheck } from "./consumerProject";

/**
 * A fresh TypeScript project with Pulumi's template tsconfig (strict, no esModuleInterop, no skipLibCheck) that
 * imports the package by name must type-check: the public .d.ts may pull in no dependency's types that fail there
 * (issue 26: program/fleet's .d.ts imported zod, whose locales fail with 40 × TS1259 without esModuleInterop).
 */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ContainerRuntime, GpuNode, NodeConfig, provisionNodesFromConfig } from "pulumi-nvidia-gpu";

const cfg = new pulumi.Config();
const node = new GpuNode("gpu-1", { connection: { host: cfg.require("host"), privateKey: cfg.requireSecret("privateKey") }, runtime: ContainerRuntime.Docker });
const fromConfig: NodeConfig = { host: "gpu-2.example.com", runtime: "containerd", toolkit: { version: "1.20.0-1" } };
export const gpus = node.gpus;
export const host = fromConfig.host;
export const nodes = provisionNodesFromConfig();
`;

describe("a strict consumer: Pulumi's template tsconfig, the packed package (issue 26)", function () {
    this.timeout(900000);
    before(() => installPackage());

    it("type-checks with `tsc --noEmit`: no diagnostic in the program or in any dependency's types", () => {
        const dir = project("strict-consumer", { "index.ts": PROGRAM });
        const r = typeCheck(dir);
        assert.deepEqual(
            r.diagnostics.map((d) => `${d.file}: ${d.code}`),
            [],
            r.output.slice(0, 4000),
        );
        assert.equal(r.code, 0, r.output.slice(0, 4000));
    });
});
