import { strict as assert } from "node:assert";
import { driverPlan } from "../../../sdk/driver/driverPlan";
import { runWithStandInTools } from "../../helpers/standInTools";

/**
 * `reboot: true`: the step schedules the reboot a moment after it returns, so the next step must not reach the host in
 * that moment (it would run its check on the old boot, or die in the middle of it). TEST STAND-INS for systemctl and
 * nohup record what the script asks of them (a `wait` after the script lets the backgrounded nohup record); this
 * machine has no NVIDIA driver, so the script sees none loaded.
 */
const rebootStep = () =>
    driverPlan({ distro: { id: "debian", versionId: "12" }, kernelModules: "proprietary", version: "535.261.03", source: "distro", reboot: true }).find(
        (s) => s.name === "driver-reboot",
    )!;

describe("driver-reboot: new SSH logins stop before the step returns (issue 23)", () => {
    it("stops sshd's units (ssh.socket, ssh, sshd), then schedules the reboot, which brings sshd back if it cannot start", () => {
        const run = runWithStandInTools(`${rebootStep().script}\nwait`, { systemctl: "exit 0", nohup: "exit 0" });
        assert.equal(run.code, 0, run.stderr);
        const calls = run.calls.trim().split("\n");
        assert.deepEqual(calls.slice(0, 3), ["systemctl stop ssh.socket", "systemctl stop ssh.service", "systemctl stop sshd.service"]);
        assert.match(calls[3], /^nohup sh -c sleep 2; systemctl reboot \|\| reboot \|\| systemctl start ssh\.service \|\| systemctl start sshd\.service$/);
    });

    it("a host without one of those units still reboots (each stop is its own call, failures ignored)", () => {
        const run = runWithStandInTools(`${rebootStep().script}\nwait`, { systemctl: '[ "$2" = ssh.socket ] && exit 5; exit 0', nohup: "exit 0" });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.calls, /^systemctl stop ssh\.service\nsystemctl stop sshd\.service\nnohup /m);
    });
});
