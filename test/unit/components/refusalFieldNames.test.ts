import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { parseRequireCuda } from "../../../sdk/cuda/imagePolicy";
import { GpuConfigError } from "../../../sdk/errors";
import { dockerContainerStep } from "../../../sdk/workloads/dockerContainer";
import { FakeHostReader, installMocks } from "../../helpers/pulumiMocks";
import { serverFacts } from "../../helpers/serverFacts";

/**
 * Fuzz finding (issue 14, test/fuzz/results/fuzz-2026-11-29.md): six args were refused under another name
 * (`containerName` as `name`, `gpuSelection` as `mode`, `driverVersion`/`driverBranch`/`nodeDriverVersions[]` as
 * `image`, `requireCuda` as `NVIDIA_REQUIRE_CUDA`), and the driver fields were never checked as versions at all:
 * a bad value only surfaced as an "incompatible image". Each is now refused naming the arg as the user wrote it.
 */
const lib = () => require("../../../index") as typeof import("../../../index");
const IMAGE = "nvidia/cuda:12.4.1-base-ubuntu22.04";

/** The output's refusal, or `accepted: <value>`: it settles either way. */
function refusal(output: pulumi.Output<unknown>): Promise<GpuConfigError | string> {
    return new Promise((resolve) =>
        (output as unknown as { promise(): Promise<unknown> }).promise().then(
            (v) => resolve(`accepted: ${JSON.stringify(v)}`),
            (e: unknown) => resolve(e instanceof GpuConfigError ? e : `not a GpuConfigError: ${String(e)}`),
        ),
    );
}

function container(args: Record<string, unknown>) {
    installMocks(true);
    const reader = new FakeHostReader({ facts: serverFacts(), files: {}, priorWrites: {}, containerdDump: undefined });
    return new (lib().DockerGpuContainer)("app", { connection: { host: "gpu-1" }, image: IMAGE, ...args } as never, { hostReader: reader });
}

function workload(args: Record<string, unknown>) {
    installMocks(true);
    return new (lib().GpuWorkload)("infer", { image: IMAGE, ...args } as never);
}

async function assertRefusedAs(output: pulumi.Output<unknown>, field: string, problem?: RegExp): Promise<void> {
    const e = await refusal(output);
    assert.ok(e instanceof GpuConfigError, String(e));
    assert.equal(e.field, field, e.message);
    if (problem) assert.match(e.message, problem);
}

describe("refusals name the component arg as the user wrote it (fuzz finding)", () => {
    describe("DockerGpuContainer", () => {
        it("containerName, not `name`", async () => {
            await assertRefusedAs(container({ containerName: "app; reboot" }).compatibility, "containerName", /is not valid/);
            await assertRefusedAs(container({ containerName: "app\0x" }).compatibility, "containerName", /NUL/);
        });

        it("gpuSelection, not `mode`", async () => {
            await assertRefusedAs(container({ gpuSelection: "'; reboot; '" }).compatibility, "gpuSelection", /use one of: gpus, runtime, cdi/);
        });

        it("driverVersion, checked as a driver version (not as an incompatible image)", async () => {
            for (const bad of ["$(reboot)", "580.95.05\nreboot", "580", "latest", "", "5800.1.2"]) {
                await assertRefusedAs(container({ driverVersion: bad }).compatibility, "driverVersion", /driver version such as/);
            }
            for (const good of ["580.159.04", "550.54.15", "560.35"]) {
                assert.match(String(await refusal(container({ driverVersion: good }).compatibility)), new RegExp(`accepted: "[^"]* runs on driver ${good}`));
            }
        });

        it("driverBranch, checked as a branch, with or without driverVersion", async () => {
            for (const bad of ["58O", "580\nreboot", "580.95", " 580", ""]) {
                await assertRefusedAs(container({ driverBranch: bad }).compatibility, "driverBranch", /three-digit driver branch/);
                await assertRefusedAs(container({ driverVersion: "580.159.04", driverBranch: bad }).compatibility, "driverBranch");
            }
            assert.match(String(await refusal(container({ driverBranch: "580" }).compatibility)), /^accepted: .*driver branch 580/);
            assert.match(
                String(await refusal(container({ driverVersion: "580.159.04", driverBranch: "580" }).compatibility)),
                /^accepted: .*runs on driver 580\.159\.04/,
            );
        });

        it("a refusal of the default container name says it is the resource name", () => {
            assert.throws(
                () => dockerContainerStep({ name: "bad name", image: IMAGE }, { name: "containerName (the resource name by default)" }),
                (e: unknown) => e instanceof GpuConfigError && e.field === "containerName (the resource name by default)",
            );
            // The sdk's own names stay the default for direct callers.
            assert.throws(
                () => dockerContainerStep({ name: "bad name", image: IMAGE }),
                (e: unknown) => e instanceof GpuConfigError && e.field === "name",
            );
        });
    });

    describe("GpuWorkload", () => {
        it("nodeDriverVersions[i], checked as a driver version (not as an incompatible image)", async () => {
            await assertRefusedAs(
                workload({ nodeDriverVersions: ["580.159.04", "$(reboot)"] }).compatibility,
                "nodeDriverVersions[1]",
                /driver version such as/,
            );
            await assertRefusedAs(workload({ nodeDriverVersions: ["..\nreboot\n/"] }).compatibility, "nodeDriverVersions[0]");
            const accepted = await refusal(workload({ nodeDriverVersions: ["580.159.04", "550.54.15", undefined] }).compatibility);
            assert.match(String(accepted), /^accepted: \[.*580\.159\.04.*550\.54\.15.*not known/);
            // 535.104.05 is a valid version: refused only as too old for CUDA 12.4, by the image check.
            await assertRefusedAs(workload({ nodeDriverVersions: ["535.104.05"] }).compatibility, "image", /needs NVIDIA driver ≥ 550\.54\.15/);
        });

        it("requireCuda, not NVIDIA_REQUIRE_CUDA, also when no node driver is given", async () => {
            for (const nodeDriverVersions of [["580.159.04"], []]) {
                await assertRefusedAs(
                    workload({ nodeDriverVersions, requireCuda: "cuda>=12.4 reboot" }).compatibility,
                    "requireCuda",
                    /cannot read the clause/,
                );
                await assertRefusedAs(workload({ nodeDriverVersions, requireCuda: "brand=tesla;reboot,driver>=470" }).compatibility, "requireCuda");
            }
            const label = "cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=535,driver<536";
            assert.match(
                String(await refusal(workload({ nodeDriverVersions: ["580.159.04"], requireCuda: label }).compatibility)),
                /^accepted: .*runs on driver 580\.159\.04/,
            );
        });

        it("parseRequireCuda keeps the label's name for direct callers and reads real labels", () => {
            assert.throws(
                () => parseRequireCuda("cuda>=12.4 driver>=470"),
                (e: unknown) => e instanceof GpuConfigError && e.field === "NVIDIA_REQUIRE_CUDA",
            );
            assert.deepEqual(parseRequireCuda("cuda>=11.8 brand=tesla,driver>=450,driver<451 brand=geforcertx,driver>=470,driver<471").alternatives, [
                { brand: "tesla", min: "450", maxExclusive: "451" },
                { brand: "geforcertx", min: "470", maxExclusive: "471" },
            ]);
        });
    });
});
