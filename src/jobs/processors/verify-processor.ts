import { UnrecoverableError } from 'bullmq';
import type { Catalog } from '../../catalog/open-catalog.ts';
import type { AgeIdentity } from '../../crypto/age/index.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import type { RestoreTestSettings } from '../../verify/restore-test.ts';
import { whyNotVerifiable } from '../../verify/verifiable.ts';
import { type VerificationRecord, verificationEnded } from '../../verify/verification.ts';
import { verifyBackup } from '../../verify/verify-backup.ts';
import { attemptLockTarget } from '../attempt-locks.ts';
import type { VerifyJob } from '../job-payloads.ts';
import { ProgressReporter } from '../progress-reporter.ts';
import { type JobContext, type JobProcessor, ShutdownAbort } from '../worker.ts';

export interface VerifyProcessorDeps {
  readonly catalog: Pick<Catalog, 'verifications' | 'backups' | 'backupClaims' | 'targetLocks'>;
  readonly store: BackupStore;
  /** The config's replica stores (see `verifyBackup`). @defaultValue none */
  readonly replicas?: readonly BackupStore[];
  /** The age identities that open encrypted components, read when each job starts. */
  readonly identities: () => readonly AgeIdentity[];
  /** Where level 3 restores: the scratch PostgreSQL server and a temp directory. */
  readonly restoreTest: RestoreTestSettings;
}

/** What a verify job returns when it ends (stored by BullMQ and the catalog). */
export interface VerifyJobResult {
  readonly verificationId: string;
  readonly backupId: string;
  readonly level: number;
  readonly status: VerificationRecord['status'];
}

/**
 * Runs one verification and records it in the catalog: passed, failed with the results of
 * every component and an error naming the failing ones, or error when it could not check
 * (see `couldNotCheck`). A verification that finds a broken backup completes its job — the
 * finding is the result. A verification that could not run at all (no identity file
 * readable) is recorded as error and fails the job without retry. At shutdown the
 * job goes back to the queue with the verification queued again, and starts over.
 *
 * An attempt holds the verification's attempt lock while it runs, so a duplicate job waits and
 * returns the result, and a verification found `running` with the lock free — its worker died —
 * is failed by the next worker's sweep (see `sweepInterruptedWork`), not left running.
 */
export function createVerifyProcessor(deps: VerifyProcessorDeps): JobProcessor<'verify'> {
  return async (payload, context) => {
    const id = payload.verificationId;
    const found = await deps.catalog.verifications.get(id);
    if (!found) throw new UnrecoverableError(`verification ${id} is not in the catalog`);
    if (verificationEnded(found)) return resultOf(found);
    const attempt = await deps.catalog.targetLocks.acquire(
      [attemptLockTarget('verify', id)],
      `verify ${id} (attempt ${context.attempt})`,
      { signal: context.signal },
    );
    try {
      return await runAttempt(deps, payload, context);
    } finally {
      await attempt.release();
    }
  };
}

/** The verification under its attempt lock: run, or returned as another attempt ended it. */
async function runAttempt(
  deps: VerifyProcessorDeps,
  payload: VerifyJob,
  context: JobContext,
): Promise<VerifyJobResult> {
  const { verifications } = deps.catalog;
  const id = payload.verificationId;
  const record = await verifications.get(id);
  if (!record) throw new UnrecoverableError(`verification ${id} is not in the catalog`);
  if (verificationEnded(record)) return resultOf(record);

  await verifications.markStarted(id);
  const progress = new ProgressReporter(context, []);
  let reading: { release(): Promise<void> } | undefined;
  try {
    // Held while the objects are read: no prune deletes the backup under the verification.
    reading = await deps.catalog.backupClaims.hold(payload.backupId, `verify ${id}`, {
      signal: context.signal,
    });
    const backup = await deps.catalog.backups.get(payload.backupId);
    // Queued while it was completed, the backup may be gone by now: nothing to verify.
    const refusal = backup
      ? whyNotVerifiable(backup)
      : `backup ${payload.backupId} is no longer in the catalog, so there is nothing to verify`;
    if (refusal !== null) {
      // Nothing was checked: no verdict on the backup.
      const ended = await verifications.markError(id, refusal, null);
      await progress.flush();
      return resultOf(ended);
    }
    const report = await verifyBackup({
      store: deps.store,
      ...(deps.replicas ? { replicas: deps.replicas } : {}),
      backupId: payload.backupId,
      catalogued: backup,
      level: payload.level,
      defaultLevel: payload.defaultLevel === true,
      identities: deps.identities(),
      ...(payload.level === 3 ? { restoreTest: deps.restoreTest } : {}),
      signal: context.signal,
      onProgress: (p) => progress.update(p),
    });
    const results = {
      components: report.components,
      ...(report.notes.length ? { notes: report.notes } : {}),
      scratch: report.scratch,
      durationMs: report.durationMs,
    };
    // A pass is recorded only for a backup that is still there as it was read.
    const after = await deps.catalog.backups.get(payload.backupId);
    const gone = after ? whyNotVerifiable(after) : `backup ${payload.backupId} left the catalog`;
    const ended =
      report.outcome === 'failed'
        ? await verifications.markFailed(id, report.error ?? 'failed', results, report.level)
        : report.outcome === 'error'
          ? await verifications.markError(id, report.error ?? 'unknown', results, report.level)
          : gone !== null
            ? await verifications.markError(
                id,
                `while it was being verified, ${gone}`,
                results,
                report.level,
              )
            : await verifications.markPassed(id, results, report.level);
    await progress.flush();
    return resultOf(ended);
  } catch (error) {
    if (context.signal.reason instanceof ShutdownAbort) {
      await verifications.requeue(id);
      throw error;
    }
    const message = error instanceof Error ? error.message : String(error);
    await verifications.markError(
      id,
      `verification of ${payload.backupId} could not run: ${message}`,
      null,
    );
    await progress.flush();
    throw new UnrecoverableError(message);
  } finally {
    progress.stop();
    await reading?.release();
  }
}

function resultOf(record: VerificationRecord): VerifyJobResult {
  return {
    verificationId: record.id,
    backupId: record.backupId,
    level: record.level,
    status: record.status,
  };
}
