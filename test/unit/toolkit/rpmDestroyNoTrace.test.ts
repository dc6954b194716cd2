import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PlanStep } from "../../../sdk/steps/planStep";
import { withStateCleanup } from "../../../sdk/steps/stateCleanup";
import { NVIDIA_KEY_FINGERPRINT, toolkitPlan } from "../../../sdk/toolkit/toolkitPlan";

/*
 * Issue 22 on dnf and zypper: destroy left /etc/nvidia-container-toolkit (NVIDIA's rpm spec ships
 * nvidia-cdi-refresh.env in it without owning the folder, so `rpm -e` keeps it) and /etc/pki/rpm-gpg (the key step's
 * `mkdir -p`), and the key `rpm --import` added stayed in rpm's database. The key and packages steps and their undos
 * run here in a private mount and PID namespace: /etc, /var/lib and /run are empty tmpfs, and rpm, dnf, curl and gpg
 * are STAND-INS (below) that keep a one-file rpm database and do to /etc what NVIDIA's packages do.
 */

const STAND_INS: Record<string, string> = {
    // curl -fsSL … -o FILE URL: the armored key.
    curl: `while [ $# -gt 0 ]; do [ "$1" = -o ] && { printf 'KEY\\n' > "$2"; shift; }; shift; done`,
    // gpg --show-keys: the pinned fingerprint.
    gpg: `printf 'pub:-:4096:1:DDCAE044F796ECB0:::::::\\nfpr:::::::::${NVIDIA_KEY_FINGERPRINT}:\\n'`,
    // rpm -q NAME, rpm -q --qf FMT NAME, rpm --import FILE, rpm -e [--allmatches] NAME: on /var/lib/rpm-stand-in/db ("name version" lines).
    rpm: `db=/var/lib/rpm-stand-in/db; mkdir -p "\${db%/*}"; touch "$db"
case "$1" in
--import) grep -qx 'gpg-pubkey-f796ecb0 f796ecb0-1' "$db" || echo 'gpg-pubkey-f796ecb0 f796ecb0-1' >> "$db" ;;
-e) for n; do case $n in -*) ;; *) grep -v "^$n " "$db" > "$db.new" || true; mv "$db.new" "$db" ;; esac; done ;;
-q) eval "n=\\\${$#}"; v=$(awk -v n="$n" '$1 == n { print $2 }' "$db"); [ -n "$v" ] || { echo "package $n is not installed"; exit 1; }
    if [ "$2" = --qf ]; then printf '%s' "$v"; else echo "$n-$v"; fi ;;
esac`,
    // dnf makecache | install/downgrade NAME-VERSION… | remove NAME…: the base package's files as NVIDIA's spec has them.
    dnf: `db=/var/lib/rpm-stand-in/db; mkdir -p "\${db%/*}"; touch "$db"
cmd=$2; shift 2
case "$cmd" in
install|downgrade) for p; do n=\${p%-*-*}; v=\${p#"$n"-}; grep -v "^$n " "$db" > "$db.new" || true; echo "$n $v" >> "$db.new"; mv "$db.new" "$db"; done
    mkdir -p /etc/nvidia-container-toolkit /etc/nvidia-container-runtime
    printf 'NVIDIA_CTK_DEBUG=\\n' > /etc/nvidia-container-toolkit/nvidia-cdi-refresh.env
    [ -e /etc/nvidia-container-runtime/config.toml ] || printf '#generated\\n' > /etc/nvidia-container-runtime/config.toml ;;
remove) for n; do grep -v "^$n " "$db" > "$db.new" || true; mv "$db.new" "$db"; done
    rm -f /etc/nvidia-container-toolkit/nvidia-cdi-refresh.env ;;
esac`,
};

/** What "as it was" means here: every folder and file under /etc, /var/lib and /run, and rpm's database. */
const SNAPSHOT = `find /etc /var/lib /run -printf '%M %p\\n' | LC_ALL=C sort; echo '--- rpm'; cat /var/lib/rpm-stand-in/db 2>/dev/null || true`;

function runInNamespace(setup: string, steps: PlanStep[]): { before: string; after: string; log: string; status: number | null } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rpm-no-trace-"));
    try {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        for (const [name, body] of Object.entries(STAND_INS))
            fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n# STAND-IN for ${name}\n${body}\n`, { mode: 0o755 });
        // Debian's awk is a link through /etc/alternatives, which the tmpfs on /etc hides: the real binary, linked here.
        fs.symlinkSync(spawnSync("sh", ["-c", 'readlink -f "$(command -v awk)"'], { encoding: "utf8" }).stdout.trim(), path.join(bin, "awk"));
        steps.forEach((s, i) => {
            fs.writeFileSync(path.join(dir, `apply-${i}.sh`), s.script);
            fs.writeFileSync(path.join(dir, `undo-${i}.sh`), s.undoScript!);
        });
        const applies = steps.map((_, i) => `sh ${dir}/apply-${i}.sh >> ${dir}/log 2>&1 || { echo "apply ${i} failed" >> ${dir}/log; exit 1; }`);
        const undos = steps.map((_, i) => `sh ${dir}/undo-${i}.sh >> ${dir}/log 2>&1 || { echo "undo ${i} failed" >> ${dir}/log; exit 1; }`).reverse();
        const driver = [
            "set -eu",
            "for d in /etc /var/lib /run; do mount -t tmpfs no-trace $d; done",
            "mount -t proc proc /proc",
            `export PATH=${bin}:$PATH`,
            "mkdir -p /var/lib/rpm-stand-in && touch /var/lib/rpm-stand-in/db",
            setup,
            `{ ${SNAPSHOT}; } > ${dir}/before`,
            ...applies,
            ...undos,
            `{ ${SNAPSHOT}; } > ${dir}/after`,
        ].join("\n");
        fs.writeFileSync(path.join(dir, "driver.sh"), driver);
        const r = spawnSync("unshare", ["--mount", "--pid", "--fork", "--propagation", "private", "sh", path.join(dir, "driver.sh")], { encoding: "utf8" });
        const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");
        return { before: read("before"), after: read("after"), log: `${read("log")}${r.stderr}`, status: r.status };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("destroy on a dnf host leaves no trace (issue 22)", () => {
    const steps = withStateCleanup(
        toolkitPlan({ version: "1.20.0-1", packageManager: "dnf" }).filter((s) => ["toolkit-key", "toolkit-packages"].includes(s.name)),
    );

    it("a host without /etc/pki, NVIDIA's folders or the key in rpm's database has none of them after the undos", () => {
        const r = runInNamespace(":", steps);
        assert.equal(r.status, 0, r.log);
        assert.match(r.before, /^--- rpm\n$/m);
        assert.equal(r.after, r.before, `the host after the undos is the host before the applies\n${r.log}`);
    });

    it("a host that had /etc/pki/rpm-gpg, an empty /etc/nvidia-container-toolkit and NVIDIA's key imported keeps all three", () => {
        const setup = [
            "mkdir -p /etc/pki/rpm-gpg /etc/nvidia-container-toolkit",
            "printf 'other\\n' > /etc/pki/rpm-gpg/RPM-GPG-KEY-other",
            "echo 'gpg-pubkey-f796ecb0 f796ecb0-1' > /var/lib/rpm-stand-in/db",
        ].join("\n");
        const r = runInNamespace(setup, steps);
        assert.equal(r.status, 0, r.log);
        assert.match(r.before, /gpg-pubkey-f796ecb0/);
        assert.match(r.before, /^d\S+ \/etc\/nvidia-container-toolkit$/m);
        assert.equal(r.after, r.before, `the host after the undos is the host before the applies\n${r.log}`);
    });
});
