import { strict as assert } from "node:assert";
import { nodePlan } from "../../../sdk/node/nodePlan";
import { serverFacts } from "../../helpers/serverFacts";
import { snapshotOf } from "../../fixtures/dataCentreHosts";

/** A node for Podman (issue 27): no daemon config, the CDI spec Podman reads, and podman itself checked at preview. */
describe("runtime podman: the CDI spec for podman run --device nvidia.com/gpu=…", () => {
    const facts = (podmanVersion: string | undefined) => ({ ...serverFacts(), docker: undefined, podmanVersion });
    const plan = (podmanVersion: string | undefined, toolkit = "1.20.0-1") =>
        nodePlan(snapshotOf(facts(podmanVersion)), { runtime: "podman", toolkit: { version: toolkit } });

    it("writes the CDI spec and configures no daemon", () => {
        const steps = plan("5.4.2").plan.steps.map((s) => s.name);
        assert.ok(steps.includes("cdi-spec"), steps.join(", "));
        assert.deepEqual(
            steps.filter((s) => /docker|containerd|crio|restart/.test(s)),
            [],
        );
    });

    it("orders podman-restart.service after the CDI spec at boot: one drop-in, reloaded when written, removed with its folder by destroy", () => {
        const step = plan("5.4.2").plan.steps.find((s) => s.name === "podman-boot-order");
        assert.ok(step, "a podman-boot-order step");
        const file = step.files?.[0];
        assert.equal(file?.path, "/etc/systemd/system/podman-restart.service.d/50-nvidia-cdi.conf");
        assert.match(file!.text, /^\[Unit\]\nWants=nvidia-cdi-refresh\.service\nAfter=nvidia-cdi-refresh\.service$/m);
        assert.match(
            file!.text,
            /^ExecStartPre=-\/bin\/sh -c '\[ -s \/var\/run\/cdi\/nvidia\.yaml \] \|\| exec \/usr\/bin\/nvidia-ctk cdi generate --output=\/var\/run\/cdi\/nvidia\.yaml'$/m,
        );
        // A failed reload warns and does not fail the step: its retry would find the file written and never reload.
        assert.match(
            step.script,
            /echo "changed \$target"\nsystemctl daemon-reload \|\| echo "warning: systemctl daemon-reload failed; systemd reads the drop-in at the next boot" >&2$/m,
        );
        assert.match(step.undoScript ?? "", /systemctl daemon-reload \|\| true/);
        assert.match(step.undoScript ?? "", /podman-restart\.service\.d/);
    });

    it("refuses a host without podman at preview, naming what to install", () => {
        assert.throws(
            () => plan(undefined),
            /runtime podman is asked for, but no podman binary was found on the host \(runtime-missing\) — install Podman first/,
        );
    });

    it("warns that toolkit 1.20's spec format is one Debian 12's Podman 4.3.1 cannot read, and not at toolkit 1.19.0", () => {
        assert.match(plan("4.3.1").findings.find((f) => f.id === "cdi-spec-too-new")?.message ?? "", /which podman 4\.3\.1 cannot read/);
        assert.equal(
            plan("4.3.1", "1.19.0-1").findings.find((f) => f.id === "cdi-spec-too-new"),
            undefined,
        );
    });
});
