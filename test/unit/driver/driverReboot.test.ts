import { strict as assert } from "node:assert";
import { driverPlan } from "../../../sdk/driver/driverPlan";
import { runWithStandInTools } from "../../helpers/standInTools";

/**
 * `reboot: true`: the step schedules the reboot a moment after it returns, so the next step must not reach the host in
 * that moment (it would run its check on the old boot, or die in the middle of it), and a host where the reboot cannot
 * be scheduled must keep its sshd. TEST STAND-INS for systemctl, systemd-run and reboot record what the script asks of
 * them; the systemd-run stand-in runs the scheduled command at once when asked to (`RUN_SCHEDULED`). This machine has
 * no NVIDIA driver, so the script sees none loaded.
 */
const rebootStep = () =>
    driverPlan({ distro: { id: "debian", versionId: "12" }, kernelModules: "proprietary", version: "535.261.03", source: "distro", reboot: true }).find(
        (s) => s.name === "driver-reboot",
    )!;
const SYSTEMD_RUN = 'for a; do last=$a; done; [ -z "${RUN_SCHEDULED:-}" ] || sh -c "$last"';
const calls = (run: { calls: string }) =>
    run.calls
        .trim()
        .split("\n")
        .map((line) => line.trimEnd());

describe("driver-reboot: new SSH logins stop before the step returns, and only once the reboot is scheduled (issue 23)", () => {
    it("schedules the reboot 2 s out, then stops sshd's units (ssh.socket, ssh, sshd)", () => {
        const run = runWithStandInTools(rebootStep().script, { systemctl: "exit 0", "systemd-run": SYSTEMD_RUN });
        assert.equal(run.code, 0, run.stderr);
        assert.match(calls(run)[0], /^systemd-run --quiet --on-active=2 sh -c /);
        assert.deepEqual(calls(run).slice(1), ["systemctl stop ssh.socket", "systemctl stop ssh.service", "systemctl stop sshd.service"]);
    });

    it("a reboot that cannot be scheduled fails the step and leaves sshd running", () => {
        const run = runWithStandInTools(rebootStep().script, { systemctl: "exit 0", "systemd-run": "exit 1" });
        assert.equal(run.code, 34);
        assert.match(run.stderr, /^error: could not schedule the reboot \(systemd-run\); sshd left running: reboot the host by hand$/m);
        assert.doesNotMatch(run.calls, /systemctl stop/);
    });

    it("a scheduled reboot that cannot start brings sshd back", () => {
        const run = runWithStandInTools(`RUN_SCHEDULED=1\nexport RUN_SCHEDULED\n${rebootStep().script}`, {
            systemctl: '[ "$1" = reboot ] && exit 1; exit 0',
            reboot: "exit 1",
            "systemd-run": SYSTEMD_RUN,
        });
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(calls(run).slice(1, 4), ["systemctl reboot", "reboot", "systemctl start ssh.socket ssh.service"]);
    });

    it("a host without one of sshd's units still reboots (each stop is its own call, failures ignored)", () => {
        const run = runWithStandInTools(rebootStep().script, { systemctl: '[ "$2" = ssh.socket ] && exit 5; exit 0', "systemd-run": SYSTEMD_RUN });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.calls, /^systemctl stop ssh\.service\nsystemctl stop sshd\.service$/m);
    });
});
