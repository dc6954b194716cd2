import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NVIDIA_CTK_FIXTURES, REPO_ROOT } from "../../helpers/paths";
import { runCli } from "../../helpers/runCli";

/** Every command's help, as `gpu-node … --help` prints it; the README's CLI section shows the same text. */
const HELP_PAGES = [[], ["plan"], ["render"], ["script"], ["script", "toolkit"], ["script", "driver"], ["check-image"]];

function assertOneLineError(r: { code: number; stdout: string; stderr: string }, code: number, what: string) {
    assert.equal(r.code, code, `${what}: ${r.stderr}`);
    assert.equal(r.stdout, "", what);
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, `${what}: one line, got ${JSON.stringify(r.stderr)}`);
}

describe("gpu-node command line (commander)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    describe("help", () => {
        it("goes to stdout with exit 0 for -h, --help and help, and names every command and the exit codes", async () => {
            for (const argv of [["-h"], ["--help"], ["help"]]) {
                const r = await runCli(...argv);
                assert.equal(r.code, 0, argv.join(" "));
                assert.equal(r.stderr, "");
                for (const command of ["plan", "render", "script", "check-image"])
                    assert.match(r.stdout, new RegExp(`^  ${command} `, "m"), `${argv}: ${command}`);
                assert.match(r.stdout, /^Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n {2}64 /m);
            }
        });

        it("of each command lists every flag with its default, --root, --key-url and --key-fingerprint included", async () => {
            const expected: Record<string, RegExp[]> = {
                plan: [
                    /--stack <name> .*\(default: "example"\)/,
                    /--format <format> .*\(choices: "text", "markdown", "json", default: "text"\)/,
                    /--out <file>/,
                    /--baseline <file>/,
                    /--live [^]*\(default: false\)/,
                    /--root <dir> .*\(default: the current folder\)/,
                ],
                render: [
                    /--config <file>/,
                    /--set-as-default/,
                    /--cdi\.enabled/,
                    /--nvidia-runtime-name <name> .*\(default: "nvidia"\)/,
                    /--nvidia-runtime-path <path>/,
                    /--drop-in-dir <dir>[^]*\(default: "\/etc\/containerd\/conf\.d"\)/,
                    /--set <key\[=value\]>/,
                    /--out <dir>/,
                    /--diff/,
                ],
                "script toolkit": [
                    /--pm <manager>/,
                    /--version <version>/,
                    /--experimental/,
                    /--repo-url <url>[^]*\(default: "https:\/\/nvidia\.github\.io\/libnvidia-container"\)/,
                    /--key-url <url> .*\(default: <repo-url>\/gpgkey\)/,
                    /--key-fingerprint <fingerprint>[^]*"C95B321B61E88C1809C4F759DDCAE044F796ECB0"/,
                ],
                "script driver": [/--distro <id:version>/, /--branch <branch>/, /--version <version>/, /--open/, /--proprietary/, /--source <source>/],
                "check-image": [/--driver <version>/, /--mode <mode>[^]*default:\s+"exact"/, /--forward-compat/, /--require-cuda <label>/],
            };
            for (const [command, patterns] of Object.entries(expected)) {
                const r = await runCli(...command.split(" "), "--help");
                assert.equal(r.code, 0, command);
                assert.equal(r.stderr, "");
                for (const pattern of patterns) assert.match(r.stdout, pattern, `${command} --help`);
                const words = command.split(" ");
                const viaHelp = await runCli(...(words.length === 1 ? ["help", command] : [words[0], "help", words[1]]));
                assert.equal(viaHelp.stdout, r.stdout, `help ${command}`);
            }
        });

        it("with no command at all, goes to stderr with exit 64", async () => {
            const r = await runCli();
            assert.equal(r.code, 64);
            assert.equal(r.stdout, "");
            assert.match(r.stderr, /^Usage: gpu-node/);
        });

        it("matches the README's CLI section, page for page", async () => {
            const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
            for (const words of HELP_PAGES) {
                const r = await runCli(...words, "--help");
                assert.match(r.stdout, /^Usage: gpu-node/, words.join(" "));
                assert.ok(
                    readme.includes(`$ gpu-node ${[...words, "--help"].join(" ")}\n${r.stdout}`),
                    `README shows gpu-node ${words.join(" ")} --help as printed`,
                );
            }
        });
    });

    describe("mistakes", () => {
        it("suggests the flag or command meant, on one line, with exit 64", async () => {
            const cases: Array<[string[], RegExp]> = [
                [["rendr", "docker"], /^gpu-node: unknown command 'rendr' \(did you mean render\?\); see gpu-node --help$/],
                [["render", "docker", "--confg", "x"], /^gpu-node render: unknown option '--confg' \(did you mean --config\?\); see gpu-node render --help$/],
                [["plan", "--formt", "json"], /^gpu-node plan: unknown option '--formt' \(did you mean --format\?\)/],
                [["script", "toolkt"], /unknown command 'toolkt' \(did you mean toolkit\?\)/],
                [
                    ["script", "toolkit", "--pm", "apt", "--versoin", "1.20.0-1"],
                    /^gpu-node script toolkit: unknown option '--versoin' \(did you mean --version\?\)/,
                ],
            ];
            for (const [argv, pattern] of cases) {
                const r = await runCli(...argv);
                assertOneLineError(r, 64, argv.join(" "));
                assert.match(r.stderr.trim(), pattern);
            }
        });

        it("exits 64 for a missing or extra argument, a missing required flag, a value outside the choices, or flags that exclude each other", async () => {
            for (const argv of [
                ["render"],
                ["render", "podman"],
                ["render", "docker", "crio"],
                ["render", "containerd"],
                ["render", "docker", "--cdi.enabled=maybe"],
                ["plan", "--format", "yaml"],
                ["script"],
                ["script", "toolkit", "--pm", "apt"],
                ["script", "toolkit", "--pm", "pacman", "--version", "1.20.0-1"],
                ["script", "toolkit", "--pm", "apt", "--version", "1.0; reboot"],
                ["script", "driver", "--distro", "ubuntu", "--branch", "580"],
                ["script", "driver", "--distro", "ubuntu:24.04"],
                ["script", "driver", "--distro", "ubuntu:24.04", "--branch", "580", "--version", "580.95.05"],
                ["script", "driver", "--distro", "ubuntu:24.04", "--branch", "580", "--open", "--proprietary"],
            ]) {
                assertOneLineError(await runCli(...argv), 64, argv.join(" "));
            }
        });

        it("names the flag at fault in a value error", async () => {
            const r = await runCli("script", "toolkit", "--pm", "apt", "--version", "1.0; reboot");
            assert.match(
                r.stderr,
                /option '--version <version>' argument '1\.0; reboot' is invalid\. "1\.0; reboot" is not valid — use a package version such as 1\.19\.0-1/,
            );
            const both = await runCli("script", "driver", "--distro", "ubuntu:24.04", "--branch", "580", "--version", "580.95.05");
            assert.match(both.stderr, /option '--branch <branch>' cannot be used with option '--version <version>'/);
        });
    });

    describe("exit codes", () => {
        it("0: done", async () => {
            assert.equal((await runCli("render", "crio", "--diff")).code, 0);
        });
        it("1: an error in the input, one line naming it", async () => {
            const bad = path.join(dir, "daemon.json");
            fs.writeFileSync(bad, '{"a": 1,}');
            assertOneLineError(await runCli("render", "docker", "--config", bad), 1, "malformed daemon.json");
        });
        it("2: plan has changes, and 0 when it has none (against its own baseline)", async function () {
            this.timeout(120000);
            const baseline = path.join(dir, "plan.json");
            const first = await runCli("plan", "--stack", "example", "--root", REPO_ROOT, "--format", "json", "--out", baseline);
            assert.equal(first.code, 2, first.stderr);
            const again = await runCli("plan", "--stack", "example", "--root", REPO_ROOT, "--baseline", baseline);
            assert.equal(again.code, 0, again.stderr);
        });
        it("64: usage", async () => {
            assertOneLineError(await runCli("plan", "--nope"), 64, "plan --nope");
        });
    });

    describe("render --config", () => {
        it("in a folder that does not exist is an error naming the path", async () => {
            const r = await runCli("render", "docker", "--config", "/nonexistent/daemon.json");
            assertOneLineError(r, 1, "missing folder");
            assert.match(r.stderr, /--config \/nonexistent\/daemon\.json: the folder \/nonexistent does not exist/);
        });

        it("missing in an existing folder is a new file, as with nvidia-ctk, and stderr says so", async () => {
            const file = path.join(dir, "daemon.json");
            const r = await runCli("render", "docker", "--config", file);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(JSON.parse(r.stdout).runtimes.nvidia.path, "nvidia-container-runtime");
            assert.equal(r.stderr, `gpu-node render: note: ${file} does not exist; rendering it as a new file, as nvidia-ctk does\n`);
        });

        it("malformed, names the file given, not the host's /etc path", async () => {
            const cases: Array<[string, string, string]> = [
                ["docker", "daemon.json", '{"a": 1,}'],
                ["containerd", "config.toml", "version = 2\n[plugins\n"],
                ["toolkit-config", "config.toml", "[x\n"],
            ];
            for (const [target, name, text] of cases) {
                const file = path.join(dir, name);
                fs.writeFileSync(file, text);
                const r = await runCli("render", target, "--config", file, "--diff");
                assertOneLineError(r, 1, target);
                assert.ok(r.stderr.startsWith(`gpu-node render: ${file} line `), r.stderr);
                assert.doesNotMatch(r.stderr, /\/etc\//);
            }
        });

        it("that is a folder is an error naming it", async () => {
            const r = await runCli("render", "docker", "--config", dir);
            assertOneLineError(r, 1, "folder");
            assert.match(r.stderr, new RegExp(`--config ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: is a folder`));
        });

        it("keeps nvidia-ctk's aliases and --switch=false", async () => {
            const input = path.join(NVIDIA_CTK_FIXTURES, "docker-c-features-cdi/input.daemon.json");
            const aliased = await runCli(
                "render",
                "docker",
                "--config",
                input,
                "--enable-cdi",
                "--nvidia-set-as-default",
                "--runtime-path=/opt/nvidia-runtime",
            );
            assert.equal(aliased.code, 0, aliased.stderr);
            const json = JSON.parse(aliased.stdout);
            assert.equal(json.features.cdi, true);
            assert.equal(json["default-runtime"], "nvidia");
            assert.equal(json.runtimes.nvidia.path, "/opt/nvidia-runtime");
            const off = await runCli("render", "docker", "--config", input, "--cdi.enabled=false", "--set-as-default=true");
            assert.equal(JSON.parse(off.stdout).features.cdi, undefined);
            assert.equal(JSON.parse(off.stdout)["default-runtime"], "nvidia");
        });
    });

    describe("errors stay one line", () => {
        it("a baseline that is not JSON is named, with no dump after the message", async () => {
            const baseline = path.join(dir, "baseline.json");
            fs.writeFileSync(baseline, "vm\nnot json\n");
            const r = await runCli("plan", "--stack", "example", "--root", REPO_ROOT, "--baseline", baseline);
            assertOneLineError(r, 1, "baseline");
            assert.match(r.stderr, new RegExp(`^gpu-node plan: --baseline ${baseline.replace(/[.]/g, "\\.")}: is not JSON`));
        });

        it("bin/gpu-node as a process: one line on stderr, the exit code, nothing on stdout", function () {
            this.timeout(60000);
            const r = spawnSync(path.join(REPO_ROOT, "bin/gpu-node"), ["render", "docker", "--config", "/nonexistent/daemon.json"], { encoding: "utf8" });
            assert.equal(r.status, 1, r.stderr);
            assert.equal(r.stdout, "");
            assert.equal(
                r.stderr,
                "gpu-node render: --config /nonexistent/daemon.json: the folder /nonexistent does not exist — give an existing file, or a new file in an existing folder\n",
            );
        });
    });

    describe("script", () => {
        it("prints one POSIX script (one shebang) that shellcheck accepts, for toolkit and driver", function () {
            this.timeout(60000);
            const files: string[] = [];
            return (async () => {
                for (const argv of [
                    ["toolkit", "--pm", "apt", "--version", "1.20.0-1"],
                    ["toolkit", "--pm", "dnf", "--version", "1.20.0-1", "--experimental"],
                    ["driver", "--distro", "ubuntu:24.04", "--branch", "580"],
                    ["driver", "--distro", "rocky:9", "--version", "580.95.05", "--proprietary"],
                ]) {
                    const r = await runCli("script", ...argv);
                    assert.equal(r.code, 0, r.stderr);
                    assert.equal(r.stdout.match(/^#!/gm)?.length, 1, argv.join(" "));
                    assert.equal(
                        r.stdout.match(/^set -eu$/gm)?.length,
                        r.stdout.match(/^gpu_node_step_\d+\(\) \($/gm)?.length,
                        "each step keeps its own set -eu, inside its subshell",
                    );
                    const file = path.join(dir, `${files.length}.sh`);
                    fs.writeFileSync(file, r.stdout);
                    files.push(file);
                }
                const check = spawnSync("shellcheck", ["-s", "sh", "-S", "info", ...files], { encoding: "utf8" });
                assert.equal(check.error, undefined, "shellcheck is installed (test/tools/setup.sh)");
                assert.equal(check.status, 0, check.stdout);
            })();
        });
    });
});
