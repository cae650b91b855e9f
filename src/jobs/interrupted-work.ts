import type { AuditLog } from '../audit/audit-log.ts';
import { auditEvent, recordAudit } from '../audit/audit-recorder.ts';
import type { RestoreRepository } from '../catalog/restore-repository.ts';
import type { TargetLocks } from '../catalog/target-locks.ts';
import type { VerificationRepository } from '../catalog/verification-repository.ts';
import type { Logger } from '../logging/logger.ts';
import { recoverInterruptedRestore } from '../restore/recover-destination.ts';
import type { RecoveredDestination, UndoEntry } from '../restore/undo-journal.ts';
import type { SweptStaging } from '../staging/staging-area.ts';
import { attemptLockTarget } from './attempt-locks.ts';
import type { JobJournal } from './job-journal.ts';
import { INTERRUPTED_RESTORE } from './processors/restore-processor.ts';

/** Why a verification whose worker died is ended (`error`: it could not check) by a sweep. */
export const INTERRUPTED_VERIFICATION =
  'the worker running it stopped (killed, crashed or cut off from the catalog) before it ended; nothing was changed: verify again';

export interface InterruptedWorkDeps {
  readonly restores: Pick<RestoreRepository, 'listRunning' | 'get' | 'markFailed'>;
  readonly verifications: Pick<VerificationRepository, 'listRunning' | 'get'>;
  readonly targetLocks: Pick<TargetLocks, 'tryAcquire'>;
  /** Ends the jobs and their records, as for any job that failed for good. */
  readonly journal: Pick<JobJournal, 'interrupted'>;
  /** Removes the staging directories of processes that are gone (see `sweepStaging`). */
  readonly sweepStaging: () => Promise<readonly SweptStaging[]>;
  /**
   * Puts back the destination of one component of a restore whose process died, from the
   * journal it recorded (see `recoverDestination`). @defaultValue none: such restores are
   * failed with {@link INTERRUPTED_RESTORE}, their destinations as they were left
   */
  readonly recoverDestination?: (entry: UndoEntry) => Promise<RecoveredDestination>;
  /** Where `restore.failed` is recorded for an interrupted restore. @defaultValue not recorded */
  readonly audit?: AuditLog;
  readonly logger: Logger;
}

/** What one sweep ended and removed. */
export interface InterruptedWorkSweep {
  readonly restores: readonly string[];
  readonly verifications: readonly string[];
  readonly staging: readonly SweptStaging[];
}

/**
 * Ends what a worker that died left behind, so that nothing stays `running` until a long-lived
 * worker happens to retry the job, and no staged copy (for an encrypted backup, the decrypted
 * dump) stays on disk: every running restore (its destinations put back first, from the
 * journals it recorded, and the error saying what each destination is now) and verification whose attempt lock is free — no
 * live attempt holds it, as every attempt takes it before it claims the record — is failed with
 * the reason, its job too, under that lock so that no new attempt starts meanwhile; and the
 * staging directories of processes that are gone are removed. Every process that runs a worker
 * sweeps when its first worker starts and then now and then, so a CLI that starts an
 * in-process worker cleans up after a killed one.
 */
export async function sweepInterruptedWork(
  deps: InterruptedWorkDeps,
): Promise<InterruptedWorkSweep> {
  const restores: string[] = [];
  for (const restore of await deps.restores.listRunning()) {
    const ended = await endIfAbandoned(deps, 'restore', restore.id, async () => {
      const now = await deps.restores.get(restore.id);
      if (now?.status !== 'running') return false;
      let error = INTERRUPTED_RESTORE;
      if (deps.recoverDestination) {
        const recovered = await recoverInterruptedRestore(now, deps.recoverDestination);
        error = recovered.error;
        await deps.restores.markFailed(restore.id, error, recovered.results);
      }
      await deps.journal.interrupted(
        restore.id,
        { kind: 'restore', restoreId: restore.id, requestedBy: restore.requestedBy },
        error,
      );
      if (deps.audit) {
        await recordAudit(
          deps.audit,
          auditEvent({
            identity: restore.requestedBy,
            platform: 'worker',
            action: 'restore.failed',
            args: { restoreId: restore.id, backupId: restore.backupId },
            requestId: restore.authorization?.request ?? null,
            outcome: 'failed',
            detail: { error, interrupted: true },
          }),
          deps.logger,
        );
      }
      return true;
    });
    if (ended) restores.push(restore.id);
  }
  const verifications: string[] = [];
  for (const verification of await deps.verifications.listRunning()) {
    const ended = await endIfAbandoned(deps, 'verify', verification.id, async () => {
      const now = await deps.verifications.get(verification.id);
      if (now?.status !== 'running') return false;
      await deps.journal.interrupted(
        verification.id,
        {
          kind: 'verify',
          verificationId: verification.id,
          backupId: verification.backupId,
          level: verification.level,
          requestedBy: verification.requestedBy,
        },
        INTERRUPTED_VERIFICATION,
      );
      return true;
    });
    if (ended) verifications.push(verification.id);
  }
  const staging = await deps.sweepStaging();
  if (restores.length || verifications.length || staging.length) {
    deps.logger.warn(
      { restores, verifications, staging: staging.map((s) => s.path) },
      'ended the work of workers that are gone, and removed their staging directories',
    );
  }
  return { restores, verifications, staging };
}

/** Runs `end` under the record's attempt lock when no live attempt holds it. */
async function endIfAbandoned(
  deps: InterruptedWorkDeps,
  kind: 'restore' | 'verify',
  id: string,
  end: () => Promise<boolean>,
): Promise<boolean> {
  const taken = await deps.targetLocks.tryAcquire(
    [attemptLockTarget(kind, id)],
    `sweep of interrupted work (${kind} ${id})`,
  );
  if (!('lock' in taken)) return false;
  try {
    return await end();
  } finally {
    await taken.lock.release();
  }
}
