import * as fs from "node:fs";
import * as path from "node:path";

/** The probe's text (sdk/host/probe.sh), read once. */
export const PROBE_SCRIPT: string = fs.readFileSync(path.join(__dirname, "probe.sh"), "utf8");
