import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { toolkitPlan } from "../../../sdk/toolkit/toolkitPlan";

/**
 * Stand-ins for apt-get, dpkg-query and dpkg that keep the install state in a file and, on install, do what
 * NVIDIA's nvidia-container-toolkit-base postinst does: `nvidia-ctk config --in-place`, which creates
 * /etc/nvidia-container-runtime/config.toml or rewrites it. Purge leaves that file, as the real purge does
 * (found by the real-GPU suite: test/gpu/results).
 */
const FAKE_APT_GET = `#!/bin/sh
state=/var/lib/pulumi-nvidia-gpu/fake-dpkg-state
case " $* " in
  *" install "*)
    echo installed > "$state"
    # What nvidia-cdi-refresh.service does once the units are installed (toolkit >= 1.19).
    mkdir -p /var/run/cdi && printf 'cdiVersion: 0.7.0\nkind: nvidia.com/gpu\n' > /var/run/cdi/nvidia.yaml
    mkdir -p /etc/nvidia-container-runtime
    if [ -e /etc/nvidia-container-runtime/config.toml ]; then
        sed -i 's/^#no-cgroups = false/#no-cgroups = false # normalised by nvidia-ctk/' /etc/nvidia-container-runtime/config.toml
    else
        printf '#accept-nvidia-visible-devices-as-volume-mounts = false\\n[nvidia-container-runtime]\\nmode = "auto"\\n' > /etc/nvidia-container-runtime/config.toml
    fi ;;
  *" purge "*) rm -f "$state" ;;
esac
exit 0
`;
const FAKE_DPKG_QUERY = `#!/bin/sh
[ -e /var/lib/pulumi-nvidia-gpu/fake-dpkg-state ] && printf '1.20.0-1 ii '
exit 0
`;

/**
 * Runs the apply and then the undo of the toolkit-packages step for real, in a private mount namespace where /etc
 * and /var/lib/pulumi-nvidia-gpu are empty tmpfs mounts, so nothing on this machine is touched. `before` is the
 * toolkit config there before the first install (undefined: none). Returns the config after apply and after undo.
 */
function applyThenUndo(
    before: string | undefined,
    specBefore?: string,
): { applied: string | undefined; undone: string | undefined; dirLeft: boolean; specLeft: boolean } {
    const step = toolkitPlan({ version: "1.20.0-1", packageManager: "apt" }).find((s) => s.name === "toolkit-packages")!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "packages-undo-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "apt-get"), FAKE_APT_GET, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "dpkg-query"), FAKE_DPKG_QUERY, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "dpkg"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "apply.sh"), step.script);
    fs.writeFileSync(path.join(dir, "undo.sh"), step.undoScript!);
    if (before !== undefined) fs.writeFileSync(path.join(dir, "before.toml"), before);
    fs.mkdirSync("/var/lib/pulumi-nvidia-gpu", { recursive: true });
    const inside = [
        "set -e",
        // An empty /etc, but for what the tools themselves need (awk is an alternatives link; the loader's cache).
        `mkdir ${dir}/real-etc && mount --bind /etc ${dir}/real-etc`,
        "mount -t tmpfs tmpfs /etc",
        `mkdir /etc/alternatives && mount --bind ${dir}/real-etc/alternatives /etc/alternatives`,
        `touch /etc/ld.so.cache && mount --bind ${dir}/real-etc/ld.so.cache /etc/ld.so.cache`,
        "mount -t tmpfs tmpfs /var/lib/pulumi-nvidia-gpu",
        "mount -t tmpfs tmpfs /run",
        `export PATH=${bin}:$PATH`,
        before === undefined ? ":" : `mkdir -p /etc/nvidia-container-runtime && cp ${dir}/before.toml /etc/nvidia-container-runtime/config.toml`,
        specBefore === undefined ? ":" : `mkdir -p /var/run/cdi && printf '%s' ${JSON.stringify(specBefore)} > /var/run/cdi/nvidia.yaml`,
        `sh ${dir}/apply.sh > ${dir}/apply.out 2>&1`,
        `cp /etc/nvidia-container-runtime/config.toml ${dir}/applied.toml 2>/dev/null || true`,
        `sh ${dir}/undo.sh > ${dir}/undo.out 2>&1`,
        `cp /etc/nvidia-container-runtime/config.toml ${dir}/undone.toml 2>/dev/null || true`,
        `if [ -d /etc/nvidia-container-runtime ]; then touch ${dir}/dir-left; fi`,
        `cp /var/run/cdi/nvidia.yaml ${dir}/spec-left 2>/dev/null || true`,
    ].join("\n");
    // Its own PID namespace too: the lock wait must not see package managers other suites run on this machine.
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc", "sh", "-c", inside], { encoding: "utf8" });
    const read = (name: string) => (fs.existsSync(path.join(dir, name)) ? fs.readFileSync(path.join(dir, name), "utf8") : undefined);
    assert.equal(r.status, 0, `needs root for unshare and tmpfs: ${r.stderr}\napply: ${read("apply.out")}\nundo: ${read("undo.out")}`);
    const result = {
        applied: read("applied.toml"),
        undone: read("undone.toml"),
        dirLeft: fs.existsSync(path.join(dir, "dir-left")),
        specLeft: fs.existsSync(path.join(dir, "spec-left")),
    };
    fs.rmSync(dir, { recursive: true, force: true });
    return result;
}

describe("toolkit-packages: destroy gives back the toolkit config the packages' install script wrote (real-GPU suite finding)", function () {
    this.timeout(60000);

    it("removes the config.toml the install created, and its folder, where there was none before", () => {
        const { applied, undone, dirLeft } = applyThenUndo(undefined);
        assert.ok(applied !== undefined, "the stand-in postinst created the file");
        assert.equal(undone, undefined, "purge leaves it; the undo removes it");
        assert.equal(dirLeft, false);
    });

    it("removes the CDI spec the packages' nvidia-cdi-refresh unit wrote, which after a purge names hooks that are gone", () => {
        assert.equal(applyThenUndo(undefined).specLeft, false);
    });

    it("does not put back an older toolkit's generated spec either: it names hooks the purge removed (review finding)", () => {
        assert.equal(applyThenUndo(undefined, "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\n").specLeft, false);
    });

    it("puts back the user's own config.toml byte for byte after the install script rewrote it", () => {
        const user = '# my settings\n#no-cgroups = false\n[nvidia-container-cli]\nldconfig = "@/sbin/ldconfig.real"\n';
        const { applied, undone } = applyThenUndo(user);
        assert.notEqual(applied, user, "the stand-in postinst rewrote it");
        assert.equal(undone, user);
    });
});
