import type { TargetLock, TargetLocks } from './target-locks.ts';

/**
 * Claims on backups, so that nothing deletes a backup while something reads it. Everything that
 * reads a backup's objects — a restore staging it, a verification, a copy to a replica — holds
 * a shared claim while it reads; a prune deletes only a backup it can claim exclusively, and
 * leaves one that is in use for its next run. Claims are advisory locks held by a connection of
 * their own, so those of a process that dies vanish with it.
 */
export interface BackupClaims {
  /**
   * Waits while a prune holds the backup, then claims it, shared with other readers, for
   * `holder` (`restore rs_…`, `verify vf_…`) until the claim is released. A reader checks the
   * backup is still completed once it holds the claim: a prune may have deleted it meanwhile.
   */
  hold(
    backupId: string,
    holder: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<TargetLock>;
  /** Claims the backup alone, now, or says who reads it (`restore rs_…`). */
  tryExclusive(
    backupId: string,
    holder: string,
  ): Promise<{ readonly lock: TargetLock } | { readonly heldBy: readonly string[] }>;
}

/** The lock target of a backup's claims: `backup:<id>`, beside the targets of the config. */
export function backupClaimTarget(backupId: string): string {
  return `backup:${backupId}`;
}

/** Backup claims as target locks on `backup:<id>`, shared for readers and exclusive for prune. */
export function createBackupClaims(
  locks: Pick<TargetLocks, 'acquire' | 'tryAcquire'>,
): BackupClaims {
  return {
    hold(backupId, holder, options = {}) {
      return locks.acquire([backupClaimTarget(backupId)], holder, {
        mode: 'shared',
        ...(options.signal ? { signal: options.signal } : {}),
      });
    },
    async tryExclusive(backupId, holder) {
      const taken = await locks.tryAcquire([backupClaimTarget(backupId)], holder);
      return 'lock' in taken ? { lock: taken.lock } : { heldBy: taken.busy.heldBy };
    },
  };
}
