import { Command, Option } from "commander";
import { combinedScript } from "../sdk/steps/combinedScript";
import { DriverSpec, driverPlan } from "../sdk/driver/driverPlan";
import { NVIDIA_KEY_FINGERPRINT, NVIDIA_REPO_URL, toolkitPlan } from "../sdk/toolkit/toolkitPlan";
import { RUNTIME_MODES } from "../sdk/toolkit/toolkitConfig";
import { validate } from "../sdk/validate";
import { CommandIo, UsageError, checked, switchOption } from "./cliCommon";

/**
 * `gpu-node script toolkit|driver …`: prints one POSIX script that runs a plan's steps in order
 * (sdk/steps/combinedScript.ts), for review or `sudo sh install.sh` on a host Pulumi does not reach.
 * The same step scripts the components run.
 */
export function scriptCommand(io: CommandIo): Command {
    const script = new Command("script").description("print one POSIX sh script that runs a plan's steps, for review or air-gapped hosts (run it as root)");

    script
        .command("toolkit")
        .description("the NVIDIA Container Toolkit: prerequisites, signing key, repository, the four packages pinned to one version")
        .addOption(new Option("--pm <manager>", "the host's package manager (required)").choices(["apt", "dnf", "zypper"]))
        .addOption(
            new Option("--version <version>", "the four packages' version, e.g. 1.20.0-1 (required)").argParser(
                checked((v) => validate(v, "packageVersion", "--version")),
            ),
        )
        .addOption(switchOption("--experimental", "also enable NVIDIA's experimental channel"))
        .addOption(
            new Option("--repo-url <url>", "the repository's base URL, for mirrors and air-gapped hosts")
                .argParser(checked((v) => validate(v.replace(/\/+$/, ""), "url", "--repo-url")))
                .default(NVIDIA_REPO_URL),
        )
        .addOption(
            new Option("--key-url <url>", "the signing key's URL (default: <repo-url>/gpgkey)").argParser(checked((v) => validate(v, "url", "--key-url"))),
        )
        .addOption(
            new Option("--key-fingerprint <fingerprint>", "the fingerprint the downloaded key must have")
                .argParser(checked((v) => validate(v.replace(/\s+/g, "").toUpperCase(), "fingerprint", "--key-fingerprint")))
                .default(NVIDIA_KEY_FINGERPRINT),
        )
        .addOption(
            new Option("--mode <mode>", "set nvidia-container-runtime.mode in the toolkit config (default: leave the host's setting)").choices(RUNTIME_MODES),
        )
        .action(
            (options: {
                pm?: "apt" | "dnf" | "zypper";
                version?: string;
                experimental: boolean;
                repoUrl: string;
                keyUrl?: string;
                keyFingerprint: string;
                mode?: string;
            }) => {
                // Checked here, not by commander, so that a mistyped flag is reported (with a suggestion) before a missing one.
                const pm = required(options.pm, "--pm", "the host's package manager: --pm apt, dnf or zypper");
                const version = required(options.version, "--version", "the four packages' version, e.g. --version 1.20.0-1");
                const steps = toolkitPlan({
                    version,
                    packageManager: pm,
                    experimental: options.experimental,
                    repoUrl: options.repoUrl,
                    keyUrl: options.keyUrl,
                    keyFingerprint: options.keyFingerprint,
                    mode: options.mode,
                });
                io.out.write(combinedScript(steps, `NVIDIA Container Toolkit ${version} (${pm})`));
            },
        );

    script
        .command("driver")
        .description("the NVIDIA driver, by branch or exact version, held against upgrades")
        .addOption(new Option("--distro <id:version>", "the host's os-release ID and VERSION_ID, e.g. ubuntu:24.04 (required)").argParser(checked(parseDistro)))
        .addOption(
            new Option("--branch <branch>", "the driver branch, e.g. 580; give this or --version")
                .argParser(checked((v) => validate(v, "driverBranch", "--branch")))
                .conflicts("version"),
        )
        .addOption(
            new Option("--version <version>", "the exact driver version, e.g. 580.95.05; give this or --branch").argParser(
                checked((v) => validate(v, "driverVersion", "--version")),
            ),
        )
        .addOption(switchOption("--open", "open kernel modules (the default; required for Blackwell)").conflicts("proprietary"))
        .addOption(switchOption("--proprietary", "proprietary kernel modules"))
        .addOption(
            new Option("--source <source>", "distro packages or NVIDIA's CUDA repository (default: distro on Ubuntu, cuda-repo elsewhere)").choices([
                "distro",
                "cuda-repo",
            ]),
        )
        .action((options: { distro?: DriverSpec["distro"]; branch?: string; version?: string; proprietary: boolean; source?: DriverSpec["source"] }) => {
            const distro = required(options.distro, "--distro", "the host's ID:VERSION as in /etc/os-release, e.g. --distro ubuntu:24.04");
            if (options.branch === undefined && options.version === undefined)
                throw new UsageError("--branch", "or --version is required", "give a branch such as --branch 580, or an exact --version");
            const steps = driverPlan({
                distro,
                branch: options.branch,
                version: options.version,
                kernelModules: options.proprietary ? "proprietary" : "open",
                source: options.source,
            });
            io.out.write(combinedScript(steps, `NVIDIA driver ${options.version ?? options.branch ?? ""} (${distro.id} ${distro.versionId})`));
        });
    return script;
}

function required<T>(value: T | undefined, flag: string, what: string): T {
    if (value === undefined) throw new UsageError(flag, "is required", `give ${what}`);
    return value;
}

function parseDistro(value: string): DriverSpec["distro"] {
    const [id, versionId, extra] = value.split(":");
    if (!id || !versionId || extra !== undefined) throw new Error(`${JSON.stringify(value)} is not ID:VERSION; write it like ubuntu:24.04`);
    return { id, versionId };
}
