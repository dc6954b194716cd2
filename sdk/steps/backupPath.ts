/** Where this library keeps its state on a host: backups, restart stamps, the lock. */
export const STATE_ROOT = "/var/lib/pulumi-nvidia-gpu";
/** Where the original of every touched file is kept, for byte-exact restore on delete. */
export const BACKUP_ROOT = `${STATE_ROOT}/backup`;

/**
 * Where a file's backups live: under BACKUP_ROOT for root-owned files, beside the file for a user's
 * own (rootless Docker), which the user can write without root.
 */
export function backupPath(target: string, userOwned: boolean): string {
    if (!userOwned) return `${BACKUP_ROOT}${target}`;
    return `${target.replace(/\/[^/]*$/, "")}/.nvidia-gpu-backup/${target.replace(/^.*\//, "")}`;
}
