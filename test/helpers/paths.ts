import * as fs from "node:fs";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** nvidia-ctk v1.20.0's recorded runs, committed with the tests so a fresh clone's `npm test` needs nothing beside it. */
export const NVIDIA_CTK_FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "nvidia-ctk");

export function readIfExists(file: string): string | undefined {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

/** A recorded probe (test/fixtures/probe) as text. */
export const probeFixture = (name: string) => fs.readFileSync(path.join(REPO_ROOT, "test/fixtures/probe", name), "utf8");
