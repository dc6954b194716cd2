import * as fs from "node:fs";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** `../shared` beside the checkout (CI lays a copy there too); GPU_SHARED_DIR overrides it. */
export const SHARED_DIR = process.env.GPU_SHARED_DIR ?? path.resolve(REPO_ROOT, "..", "shared");

export const NVIDIA_CTK_FIXTURES = path.join(SHARED_DIR, "fixtures", "nvidia-ctk");

export function readIfExists(file: string): string | undefined {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}
