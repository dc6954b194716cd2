import * as fs from "node:fs";
import * as path from "node:path";
import { NVIDIA_CTK_FIXTURES, readIfExists } from "../helpers/paths";
import { SETUP_HINT, missingBinaries } from "./binaries";
import { checkCase } from "./harness";
import { DiffCase, Target } from "./knownBugs";

const FIXTURE_INPUT: Record<Target, string> = {
    docker: "input.daemon.json",
    containerd: "input.config.toml",
    crio: "input.crio.conf",
    "toolkit-config": "input.config.toml",
};

/** The committed nvidia-ctk runs (test/fixtures/nvidia-ctk) of one target, re-run against the real binary. */
export function fixtureCases(target: Target): DiffCase[] {
    return fs
        .readdirSync(NVIDIA_CTK_FIXTURES)
        .sort()
        .flatMap((name) => {
            const dir = path.join(NVIDIA_CTK_FIXTURES, name);
            if (!fs.statSync(dir).isDirectory()) return [];
            const [t, ...flags] = fs.readFileSync(path.join(dir, "flags"), "utf8").trim().split(/\s+/);
            if (t !== target) return [];
            // An import of /etc/containerd/extra.toml becomes one of the case's own folder (the harness writes extra.toml there).
            const input = readIfExists(path.join(dir, FIXTURE_INPUT[target]))?.replace("/etc/containerd/extra.toml", "extra.toml");
            return [{ target, name: `fixture ${name}`, input, flags }];
        });
}

/** One mocha test per case; the suite refuses to run without the real binaries. */
export function registerCases(title: string, cases: () => DiffCase[]): void {
    describe(title, function () {
        this.timeout(120000);
        before(function () {
            const missing = missingBinaries();
            if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}: ${SETUP_HINT}`);
        });
        for (const c of cases()) {
            it(`${c.name}: ${c.flags.join(" ") || "(default flags)"}`, () => checkCase(c));
        }
    });
}
