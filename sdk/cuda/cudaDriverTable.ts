import table from "./cuda-driver-table.json";
import { atLeast, compareVersions } from "../versions";

/** One row of the CUDA Toolkit release notes' Table 3: the minimum Linux x86_64 driver of a CUDA release. */
export interface CudaRow {
    cuda: string;
    label: string;
    linux: string;
}

export const CUDA_ROWS: readonly CudaRow[] = table.minimumDriverByCuda;

/** Minor-version compatibility families (Table 2): any driver in the range runs any CUDA of that major. */
export const MINOR_VERSION_FAMILIES: ReadonlyArray<{ cudaMajor: number; minDriver: string; maxDriverExclusive?: string }> = table.minorVersionFamilies;

/** `x.y` or `x.y.z` → `x.y.z`. */
export function normaliseCuda(version: string): string {
    const parts = version.split(".");
    while (parts.length < 3) parts.push("0");
    return parts.slice(0, 3).join(".");
}

/**
 * The minimum driver for a CUDA release: its own Table 3 row, else the row of the same major.minor
 * with the highest update not above it. Undefined for a release the table does not know.
 */
export function exactMinimumDriver(cuda: string): CudaRow | undefined {
    const wanted = normaliseCuda(cuda);
    const exact = CUDA_ROWS.find((r) => r.cuda === wanted);
    if (exact) return exact;
    const [major, minor] = wanted.split(".");
    return CUDA_ROWS.filter((r) => r.cuda.startsWith(`${major}.${minor}.`) && compareVersions(r.cuda, wanted) <= 0).sort((a, b) =>
        compareVersions(b.cuda, a.cuda),
    )[0];
}

/** The weaker floor of minor-version compatibility: any driver of the CUDA major's family. */
export function familyMinimumDriver(cuda: string): string | undefined {
    const major = Number(cuda.split(".")[0]);
    return MINOR_VERSION_FAMILIES.find((f) => f.cudaMajor === major)?.minDriver;
}

/** The newest CUDA major.minor a driver runs with full features (what nvidia-smi prints as "CUDA Version"). */
export function cudaVersionOfDriver(driver: string): string | undefined {
    const rows = CUDA_ROWS.filter((r) => atLeast(driver, r.linux)).sort((a, b) => compareVersions(b.cuda, a.cuda));
    return rows[0]?.cuda.split(".").slice(0, 2).join(".");
}
