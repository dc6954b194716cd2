import { strict as assert } from "node:assert";
import { cudaVersionOfDriver, exactMinimumDriver, familyMinimumDriver } from "../../../sdk/cuda/cudaDriverTable";
import { parseImageReference } from "../../../sdk/cuda/imageReference";
import { CompatibilityMode, checkImageAgainstDriver, parseCudaImage, parseRequireCuda } from "../../../sdk/cuda/imagePolicy";
import { runCli } from "../../helpers/runCli";

describe("CUDA image policy", () => {
    describe("image references", () => {
        const cases: Array<[string, object]> = [
            ["nvidia/cuda:12.4.1-base-ubuntu22.04", { registry: "docker.io", repository: "nvidia/cuda", tag: "12.4.1-base-ubuntu22.04", digest: undefined }],
            [
                "nvcr.io/nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04",
                { registry: "nvcr.io", repository: "nvidia/cuda", tag: "13.0.2-cudnn-devel-ubuntu24.04", digest: undefined },
            ],
            [`nvidia/cuda@sha256:${"a".repeat(64)}`, { registry: "docker.io", repository: "nvidia/cuda", tag: undefined, digest: `sha256:${"a".repeat(64)}` }],
            ["localhost:5000/team/app:1.0", { registry: "localhost:5000", repository: "team/app", tag: "1.0", digest: undefined }],
            ["busybox", { registry: "docker.io", repository: "library/busybox", tag: undefined, digest: undefined }],
        ];
        for (const [ref, want] of cases) it(`parses ${ref}`, () => assert.deepEqual(parseImageReference(ref), want));
    });

    describe("pinning", () => {
        it("refuses nvidia/cuda:latest, explaining that NVIDIA removed it, with a pinned example", () => {
            assert.throws(
                () => parseCudaImage("nvidia/cuda:latest"),
                /NVIDIA removed "latest" from nvidia\/cuda in 2021.*pin a tag such as nvidia\/cuda:12\.4\.1-base-ubuntu22\.04/,
            );
            assert.throws(() => parseCudaImage("nvcr.io/nvidia/cuda:latest"), /NVIDIA removed "latest"/);
        });
        it("refuses latest for NVIDIA's graphics images and third-party engine images too", () => {
            assert.throws(() => parseCudaImage("nvidia/opengl:latest"), /NVIDIA removed "latest" from nvidia\/opengl/);
            assert.throws(() => parseCudaImage("nvidia/vulkan:latest"), /NVIDIA removed "latest" from nvidia\/vulkan/);
            assert.throws(() => parseCudaImage("nvidia/cudagl"), /has no tag/);
            assert.throws(() => parseCudaImage("ghcr.io/epicgames/unreal-engine:latest"), /uses the tag "latest" — pin a tag or a digest/);
            assert.equal(parseCudaImage("ghcr.io/epicgames/unreal-engine:runtime-pixel-streaming-5.4").kind, "other");
            assert.equal(parseCudaImage(`ghcr.io/acme/game@sha256:${"e".repeat(64)}`).reference.digest, `sha256:${"e".repeat(64)}`);
            assert.equal(parseCudaImage("nvidia/vulkan:1.3-470").kind, "graphics");
        });

        it("refuses an untagged reference, which means latest", () => {
            assert.throws(() => parseCudaImage("nvidia/cuda"), /has no tag, which means "latest"/);
            assert.throws(() => parseCudaImage("ghcr.io/acme/render"), /pin a tag or a digest/);
        });
        it("refuses an unknown flavor and names the known ones", () => {
            assert.throws(() => parseCudaImage("nvidia/cuda:12.4.1-slim-ubuntu22.04"), /known flavor \(base, runtime, devel, cudnn-runtime, cudnn-devel/);
        });
        it("reads every flavor, old cudnnN forms, two-part versions and a digest after a tag", () => {
            const read = (ref: string) => {
                const i = parseCudaImage(ref);
                return [i.cudaVersion, i.flavor, i.os];
            };
            assert.deepEqual(read("nvidia/cuda:12.4.1-base-ubuntu22.04"), ["12.4.1", "base", "ubuntu22.04"]);
            assert.deepEqual(read("nvidia/cuda:12.8.0-runtime-rockylinux9"), ["12.8.0", "runtime", "rockylinux9"]);
            assert.deepEqual(read("nvidia/cuda:12.5.1-cudnn-devel-ubuntu20.04"), ["12.5.1", "cudnn-devel", "ubuntu20.04"]);
            assert.deepEqual(read("nvidia/cuda:11.7.1-cudnn8-runtime-ubuntu22.04"), ["11.7.1", "cudnn8-runtime", "ubuntu22.04"]);
            assert.deepEqual(read("nvidia/cuda:10.0-cudnn7-runtime-ubuntu16.04"), ["10.0.0", "cudnn7-runtime", "ubuntu16.04"]);
            assert.deepEqual(read(`nvidia/cuda:12.4.1-base-ubi9@sha256:${"b".repeat(64)}`), ["12.4.1", "base", "ubi9"]);
            assert.equal(parseCudaImage(`nvidia/cuda@sha256:${"c".repeat(64)}`).cudaVersion, undefined);
        });
    });

    describe("CUDA → driver table", () => {
        const rows: Array<[string, string]> = [
            ["12.4.1", "550.54.15"],
            ["12.4.0", "550.54.14"],
            ["13.0.0", "580.65.06"],
            ["13.0.2", "580.95.05"],
            ["12.8.0", "570.26"],
            ["12.6.2", "560.35.03"],
            ["11.8.0", "520.61.05"],
            ["13.2.2", "595.71.05"],
            ["12.0.1", "525.85.12"],
        ];
        for (const [cuda, driver] of rows) it(`CUDA ${cuda} needs ≥ ${driver}`, () => assert.equal(exactMinimumDriver(cuda)?.linux, driver));

        it("falls back to the highest update of the same minor not above the version", () => {
            assert.equal(exactMinimumDriver("12.4.3")?.cuda, "12.4.1");
            assert.equal(exactMinimumDriver("12.7.0"), undefined);
        });
        it("gives the minor-version families' floors", () => {
            assert.equal(familyMinimumDriver("13.1.0"), "580");
            assert.equal(familyMinimumDriver("12.9.1"), "525.60.13");
            assert.equal(familyMinimumDriver("11.4.0"), "450.80.02");
        });
        it("knows the CUDA version a driver reports (the real H100's 580.159.04 is CUDA 13.0)", () => {
            assert.equal(cudaVersionOfDriver("580.159.04"), "13.0");
            assert.equal(cudaVersionOfDriver("550.54.15"), "12.4");
            assert.equal(cudaVersionOfDriver("550.54.14"), "12.4");
        });
    });

    describe("image against driver", () => {
        const verdict = (image: string, driver: string | undefined, options = {}) => checkImageAgainstDriver(parseCudaImage(image), driver, options);
        const boundaries: Array<[string, string, string]> = [
            ["nvidia/cuda:12.4.1-base-ubuntu22.04", "550.54.15", "ok"],
            ["nvidia/cuda:12.4.1-base-ubuntu22.04", "550.54.14", "incompatible"],
            ["nvidia/cuda:13.0.0-base-ubuntu24.04", "580.65.06", "ok"],
            ["nvidia/cuda:13.0.0-base-ubuntu24.04", "580.65.05", "incompatible"],
            ["nvidia/cuda:13.0.2-base-ubuntu24.04", "580.159.04", "ok"],
            ["nvidia/cuda:13.1.0-base-ubuntu24.04", "580.159.04", "incompatible"],
        ];
        for (const [image, driver, want] of boundaries) it(`${image} on ${driver}: ${want}`, () => assert.equal(verdict(image, driver).verdict, want));

        it("explains an incompatibility with the CUDA error users would otherwise see at 3 a.m.", () => {
            const v = verdict("nvidia/cuda:13.1.0-base-ubuntu24.04", "580.159.04");
            assert.match(
                v.reason,
                /needs NVIDIA driver ≥ 590\.44\.01 for CUDA 13\.1\.0, but the node has 580\.159\.04 \(CUDA 13\.0\).*CUDA driver version is insufficient/,
            );
            assert.match(v.fix!, /CUDA 13\.0 or older, or upgrade the driver to 590\.44\.01/);
        });
        it("accepts the minor-version floor only when that weaker mode is chosen", () => {
            assert.equal(verdict("nvidia/cuda:13.1.0-base-ubuntu24.04", "580.159.04", { mode: CompatibilityMode.MinorVersion }).verdict, "ok");
            assert.equal(verdict("nvidia/cuda:12.8.0-base-ubuntu22.04", "525.60.12", { mode: CompatibilityMode.MinorVersion }).verdict, "incompatible");
        });
        it("accepts forward compatibility only where the user says so", () => {
            const label = "cuda>=12.8 brand=tesla,driver>=535,driver<536 brand=tesla,driver>=550,driver<551";
            assert.equal(verdict("nvidia/cuda:12.8.0-base-ubuntu22.04", "535.216.01", { requireCuda: label }).verdict, "incompatible");
            assert.equal(verdict("nvidia/cuda:12.8.0-base-ubuntu22.04", "535.216.01", { requireCuda: label, forwardCompatible: true }).verdict, "ok");
        });
        it("holds forward compatibility to NVIDIA's floor: a supported data-centre branch (R535, R570, R580, R595), not any driver", () => {
            const fc = { forwardCompatible: true };
            const old = verdict("nvidia/cuda:12.4.1-base-ubuntu22.04", "418.81.07", fc);
            assert.equal(old.verdict, "incompatible");
            assert.match(
                old.reason,
                /forward compatibility cannot bridge that on driver 418\.81\.07: NVIDIA supports it only on the data-centre branches R535, R570, R580, R595, and R418 is not one of them/,
            );
            assert.equal(verdict("nvidia/cuda:12.8.0-base-ubuntu22.04", "470.256.02", fc).verdict, "incompatible");
            assert.equal(verdict("nvidia/cuda:12.8.0-base-ubuntu22.04", "550.163.01", fc).verdict, "incompatible", "R550 is end-of-life");
            assert.equal(verdict("nvidia/cuda:13.0.0-base-ubuntu24.04", "535.216.01", fc).verdict, "ok");
            assert.equal(verdict("nvidia/cuda:13.1.0-base-ubuntu24.04", "580.65.06", fc).verdict, "ok");
        });
        it("with a NVIDIA_REQUIRE_CUDA label, forward compatibility also needs a driver range the label names", () => {
            const label = "cuda>=12.8 brand=tesla,driver>=535,driver<536";
            assert.equal(
                verdict("nvidia/cuda:12.8.0-base-ubuntu22.04", "470.256.02", {
                    requireCuda: "cuda>=12.8 brand=tesla,driver>=470,driver<471",
                    forwardCompatible: true,
                }).verdict,
                "incompatible",
            );
            assert.equal(
                verdict("nvidia/cuda:13.0.0-base-ubuntu24.04", "570.172.08", { requireCuda: label.replace("12.8", "13.0"), forwardCompatible: true }).verdict,
                "incompatible",
            );
        });
        it("is unknown without a driver or a CUDA version, and reads NVIDIA_REQUIRE_CUDA for digest-only images", () => {
            assert.equal(verdict("nvidia/cuda:12.4.1-base-ubuntu22.04", undefined).verdict, "unknown");
            const digest = `nvidia/cuda@sha256:${"d".repeat(64)}`;
            assert.equal(verdict(digest, "550.54.15").verdict, "unknown");
            assert.equal(verdict(digest, "550.54.15", { requireCuda: "cuda>=12.4" }).verdict, "ok");
            assert.equal(verdict(digest, "545.23.08", { requireCuda: "cuda>=12.4" }).verdict, "incompatible");
        });
        it("parses NVIDIA_REQUIRE_CUDA labels", () => {
            assert.deepEqual(parseRequireCuda("cuda>=12.4 brand=tesla,driver>=470,driver<471"), {
                cuda: "12.4",
                alternatives: [{ brand: "tesla", min: "470", maxExclusive: "471" }],
            });
            assert.throws(() => parseRequireCuda("cuda>=12.4 driver>=470"), /NVIDIA_REQUIRE_CUDA: cannot read the clause/);
        });
    });

    describe("gpu-node check-image", () => {
        it("exits 0 for a pinned, compatible image", async () => {
            const r = await runCli("check-image", "nvidia/cuda:12.4.1-base-ubuntu22.04", "--driver", "580.159.04");
            assert.equal(r.code, 0);
            assert.match(r.stdout, /^ok: /);
        });
        it("exits 1 with one line for latest and for an insufficient driver", async () => {
            for (const argv of [
                ["check-image", "nvidia/cuda:latest"],
                ["check-image", "nvidia/cuda:12.4.1-base-ubuntu22.04", "--driver", "550.54.14"],
            ]) {
                const r = await runCli(...argv);
                assert.equal(r.code, 1, argv.join(" "));
                assert.equal(r.stdout, "");
                assert.equal(r.stderr.trim().split("\n").length, 1);
            }
        });
        it("exits 0 with a note for an image that is not a CUDA image, even with --driver, as the components accept it", async () => {
            const r = await runCli("check-image", "ghcr.io/acme/trainer:2.1", "--driver", "550.54.15");
            assert.equal(r.code, 0, r.stderr);
            assert.match(
                r.stdout,
                /^note: acme\/trainer:2\.1: its CUDA version is not in the tag, so it was not checked against driver 550\.54\.15; the components accept it too/,
            );
            assert.equal(r.stderr, "");
        });
        it("exits 64 for usage errors: no image, two images, a bad --driver or --mode, an unknown flag", async () => {
            for (const argv of [
                [],
                ["a:1", "b:1"],
                ["nvidia/cuda:12.4.1-base-ubuntu22.04", "--driver", "abc"],
                ["nvidia/cuda:12.4.1-base-ubuntu22.04", "--mode", "fast"],
                ["nvidia/cuda:12.4.1-base-ubuntu22.04", "--forward"],
            ]) {
                const r = await runCli("check-image", ...argv);
                assert.equal(r.code, 64, argv.join(" "));
                assert.equal(r.stdout, "");
                assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
            }
        });
        it("--forward-compat enforces NVIDIA's floor: 418.81.07 is refused, R535 accepted", async () => {
            const old = await runCli("check-image", "nvidia/cuda:12.4.1-base-ubuntu22.04", "--driver", "418.81.07", "--forward-compat");
            assert.equal(old.code, 1);
            assert.match(old.stderr, /R418 is not one of them/);
            const lts = await runCli("check-image", "nvidia/cuda:12.4.1-base-ubuntu22.04", "--driver", "535.216.01", "--forward-compat");
            assert.equal(lts.code, 0, lts.stderr);
            assert.match(lts.stdout, /^ok: .*through forward compatibility/);
        });
    });
});
