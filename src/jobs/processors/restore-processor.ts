import { UnrecoverableError } from 'bullmq';
import type { AuditLog } from '../../audit/audit-log.ts';
import { auditEvent, recordAudit } from '../../audit/audit-recorder.ts';
import type { BackupTarget } from '../../backup/run-backup.ts';
import { readCataloguedManifest } from '../../backup/stored-manifest.ts';
import type { Catalog } from '../../catalog/open-catalog.ts';
import type { LifeboatConfig } from '../../config/schema.ts';
import type { AgeIdentity } from '../../crypto/age/index.ts';
import type { Logger } from '../../logging/logger.ts';
import { authorizationProblem } from '../../restore/authorization-check.ts';
import {
  changedDestinations,
  changedDestinationsRefusal,
} from '../../restore/destination-binding.ts';
import {
  recoverDestination,
  recoverInterruptedRestore,
} from '../../restore/recover-destination.ts';
import { hasEnded, type RestoreRecord } from '../../restore/restore-record.ts';
import {
  checkRestore,
  preflightRestore,
  type RestoreResults,
  runRestore,
} from '../../restore/run-restore.ts';
import { type SafetyBackupReport, takeSafetyBackup } from '../../restore/safety-backup.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import { attemptLockTarget } from '../attempt-locks.ts';
import { ProgressReporter } from '../progress-reporter.ts';
import { type JobContext, type JobProcessor, ShutdownAbort } from '../worker.ts';

export interface RestoreProcessorDeps {
  readonly config: LifeboatConfig;
  readonly catalog: Pick<
    Catalog,
    'backups' | 'restores' | 'targetLocks' | 'backupClaims' | 'approvals'
  >;
  /**
   * The catalog's URL: a restore never replaces the catalog's own database.
   * @defaultValue none, nothing refused
   */
  readonly catalogUrl?: string;
  readonly store: BackupStore;
  /**
   * The config's replica stores: a backup the catalog records in none of the config's stores
   * belongs to another config and is refused. @defaultValue none
   */
  readonly replicas?: readonly BackupStore[];
  /** The worker's age identities, read when a restore runs (see `loadAgeIdentities`). */
  readonly identities: () => readonly AgeIdentity[];
  /** The staging root (see `runRestore`). @defaultValue `defaultStagingRoot()`, under `TMPDIR` */
  readonly stagingDirectory?: string;
  /**
   * Where `restore.started`, `safety-backup.*` and `restore.completed|failed` are recorded. A
   * failing append is logged and never fails the restore. @defaultValue not recorded
   */
  readonly audit?: AuditLog;
  /** Written into safety backups' manifests. @defaultValue the version in package.json */
  readonly lifeboatVersion?: string;
  /**
   * Whether a destination exists, so that its safety backup has something to save.
   * @defaultValue `destinationExists` (a database that accepts connections, a directory that exists)
   */
  readonly destinationExists?: (target: BackupTarget) => Promise<boolean>;
}

/** What a restore job returns when it completes. */
export interface RestoreJobResult {
  readonly restoreId: string;
  readonly status: RestoreRecord['status'];
  readonly durationMs: number;
}

/**
 * Why a restore whose worker died is failed when its destinations could not be looked at (a
 * sweep without the config): by a worker's sweep of interrupted work. With the config, the
 * error says what each destination is now (see `recoverInterruptedRestore`).
 */
export const INTERRUPTED_RESTORE =
  'the worker running it stopped (killed, crashed or cut off from the catalog) before it ended; it is not run again automatically, because the destination may be partly written: check the destination, then restore again';

/** Why a restore stopped by a shutdown after it began writing is failed, not handed back. */
export const SHUTDOWN_MID_RESTORE =
  'the worker shut down while restoring; it is not run again automatically, because the destination may be partly written: check the destination, then restore again';

/**
 * Runs one restore job, at most once: the job claims its restore (`queued` → `running`) in one
 * conditional update, so a duplicate job or a retry never restores twice. Attempts at one
 * restore run one at a time (a lock per restore): a duplicate waits for the live attempt and
 * returns its result; a retry that finds the restore still `running` with no live attempt (its
 * worker died mid-restore) fails it instead of writing over a half-restored destination again.
 *
 * The plan recorded at `/restore` time runs against the config as it is now. Destinations that
 * need approval are written only with an approval or break glass on record. With the
 * destinations' target locks held: the production destinations are backed up first (the safety
 * backup; if it fails nothing is restored), then the backup is staged, restored and validated.
 *
 * Every failure is recorded on the restore and ends the job for good: running a failed restore
 * again is a person's decision. A shutdown before any destination was written hands the
 * restore back to the queue.
 */
export function createRestoreProcessor(deps: RestoreProcessorDeps): JobProcessor<'restore'> {
  return async (payload, context) => {
    const { restores, targetLocks } = deps.catalog;
    const id = payload.restoreId;
    const record = await restores.get(id);
    if (!record) throw new UnrecoverableError(`restore ${id} is not in the catalog`);
    if (hasEnded(record)) return resultOf(record);

    // One attempt at a time per restore, across every worker: an attempt that is still alive
    // (a duplicate job, a job the queue thought stalled) is waited for, not failed; once it
    // ends its result is returned below. The lock dies with its worker's connection, so a
    // restore found `running` with the lock free was left by an attempt that is gone.
    const attempt = await targetLocks.acquire(
      [attemptLockTarget('restore', id)],
      `restore ${id} (attempt ${context.attempt})`,
      { signal: context.signal },
    );
    try {
      return await runClaimed(deps, id, context);
    } finally {
      await attempt.release();
    }
  };
}

/** The restore under its attempt lock: claimed and run, or left as another attempt left it. */
async function runClaimed(
  deps: RestoreProcessorDeps,
  id: string,
  context: JobContext,
): Promise<RestoreJobResult> {
  const { backups, restores, targetLocks, backupClaims } = deps.catalog;
  const claim = await restores.claim(id, { attempt: context.attempt });
  const audit = auditTrail(deps.audit, claim.restore, context.logger);
  if (!claim.claimed) {
    if (hasEnded(claim.restore)) return resultOf(claim.restore);
    // Its worker died: its destinations are put back from the journals it recorded.
    const recovered = await recoverInterruptedRestore(claim.restore, (entry) =>
      recoverDestination(entry, deps.config.targets[entry.destination]),
    );
    const failed = await restores.markFailed(id, recovered.error, recovered.results);
    await audit('restore.failed', 'failed', {
      error: recovered.error,
      attempt: context.attempt,
    });
    throw new UnrecoverableError(failed.error ?? recovered.error);
  }

  const { plan, authorization } = claim.restore;
  // The approval it claims is checked here, where it acts, not only by the bot that queued it.
  const request = authorization
    ? await deps.catalog.approvals.get(authorization.request)
    : undefined;
  const problem = authorizationProblem(claim.restore, request, deps.config);
  if (problem !== null) {
    const refusal = `refused: ${problem}; nothing was changed. Run /restore again to ask for an approval`;
    await audit('restore.refused', 'refused', {
      code: 'restore_authorization_invalid',
      error: refusal,
      authorization,
    });
    const failed = await restores.markFailed(id, refusal, null);
    throw new UnrecoverableError(failed.error ?? refusal);
  }
  // What was planned (and approved) is what runs: a destination that resolves elsewhere now
  // (its URL or path edited, the environment variable behind it changed) refuses the restore.
  const changed = await changedDestinations(plan, deps.config);
  if (changed.length > 0) {
    const refusal = changedDestinationsRefusal(changed);
    await audit('restore.refused', 'refused', {
      code: 'restore_destination_changed',
      error: refusal,
      changed,
      authorization,
    });
    const failed = await restores.markFailed(id, refusal, null);
    throw new UnrecoverableError(failed.error ?? refusal);
  }
  await audit('restore.started', 'started', {
    attempt: context.attempt,
    destinations: plan.components.map((c) => `${c.destination} (${c.environment})`),
    authorization,
  });
  const progress = new ProgressReporter(
    context,
    plan.components.map((c) => c.component),
  );
  const componentOf = (destination: string) =>
    plan.components.find((c) => c.destination === destination)?.component ?? destination;
  let results: RestoreResults | undefined;
  let safety: SafetyBackupReport | null = null;
  let lock: { release(): Promise<void> } | undefined;
  let reading: { release(): Promise<void> } | undefined;
  // Set once runRestore is about to write the first destination: from then on a shutdown
  // cannot hand the restore back, because running it again would write over half of it.
  let writing = false;
  try {
    // Held until the end: no prune deletes the backup while it is staged and restored.
    reading = await backupClaims.hold(plan.backupId, `restore ${id}`, { signal: context.signal });
    const backup = await backups.get(plan.backupId);
    if (backup?.status !== 'completed') {
      const why = backup ? `it is ${backup.status}` : 'it is no longer in the catalog';
      throw new Error(`backup ${plan.backupId} cannot be restored: ${why}; nothing was changed`);
    }
    // Storage is the truth: the manifest the objects are checked against is the store's, once
    // it agrees with the catalog's copy, read before the destinations are locked or touched.
    const manifest = await readCataloguedManifest([deps.store, ...(deps.replicas ?? [])], backup);
    const authorized = authorization !== null;
    checkRestore({ plan, manifest, config: deps.config, authorized });

    lock = await targetLocks.acquire(
      plan.components.map((c) => c.destination),
      `restore ${id}`,
      {
        signal: context.signal,
        onWait: (target, heldBy) =>
          progress.waiting(
            componentOf(target),
            `waiting for ${heldBy ?? 'another job'} to finish with ${target}`,
          ),
      },
    );

    const catalogUrl = deps.catalogUrl === undefined ? {} : { catalogUrl: deps.catalogUrl };
    // A restore that will be refused (privileges, the catalog's database) takes no safety backup.
    await preflightRestore({
      plan,
      manifest,
      config: deps.config,
      authorized,
      ...catalogUrl,
    });
    safety = await takeSafetyBackup({
      restoreId: id,
      plan,
      config: deps.config,
      store: deps.store,
      backups,
      requestedBy: claim.restore.requestedBy,
      signal: context.signal,
      ...(deps.lifeboatVersion ? { lifeboatVersion: deps.lifeboatVersion } : {}),
      ...(deps.destinationExists ? { exists: deps.destinationExists } : {}),
      onProgress: (destination, message) => progress.waiting(componentOf(destination), message),
    });
    if (safety) {
      // The step's outcome goes to the chat now, whatever the progress interval held back.
      await progress.flush();
      if (safety.status === 'completed' && safety.backupId) {
        await restores.recordSafetyBackup(id, safety.backupId);
      }
      await audit(`safety-backup.${safety.status}`, safety.status, { ...safety });
      if (safety.status === 'failed') {
        const message = `safety backup failed: ${safety.error}; nothing was changed`;
        results = {
          components: [],
          ok: false,
          error: message,
          durationMs: safety.durationMs,
          safetyBackup: safety,
        };
        throw new Error(message);
      }
    }

    const restored = await runRestore({
      restoreId: id,
      plan,
      manifest,
      config: deps.config,
      authorized,
      store: deps.store,
      identities: deps.identities(),
      ...catalogUrl,
      ...(deps.stagingDirectory ? { stagingDirectory: deps.stagingDirectory } : {}),
      signal: context.signal,
      onProgress: (p) => progress.update(p),
      onWriting: () => {
        writing = true;
      },
      undo: {
        started: (component, destination, journal) =>
          restores.recordUndo(id, { component, destination, journal }),
        ended: (component, state) => restores.recordDestinationState(id, component, state),
      },
    });
    results = safety
      ? {
          ...restored,
          durationMs: restored.durationMs + safety.durationMs,
          safetyBackup: safety,
        }
      : restored;
    const ended = results.ok
      ? await restores.markCompleted(id, results)
      : await restores.markFailed(id, results.error ?? 'the restore failed', results);
    await progress.flush();
    await audit(
      results.ok ? 'restore.completed' : 'restore.failed',
      ended.status,
      summaryOf(ended, results),
    );
    if (!results.ok) throw new UnrecoverableError(ended.error ?? 'the restore failed');
    return resultOf(ended);
  } catch (error) {
    if (error instanceof UnrecoverableError) throw error;
    if (context.signal.reason instanceof ShutdownAbort && !writing) {
      await restores.requeue(id);
      throw error;
    }
    const message =
      context.signal.reason instanceof ShutdownAbort
        ? SHUTDOWN_MID_RESTORE
        : error instanceof Error
          ? error.message
          : String(error);
    const withSafety =
      results ?? (safety ? { ...failedResults(message), safetyBackup: safety } : null);
    const ended = await restores.markFailed(id, message, withSafety);
    await progress.flush();
    await audit('restore.failed', 'failed', summaryOf(ended, withSafety));
    throw new UnrecoverableError(message);
  } finally {
    progress.stop();
    await lock?.release();
    await reading?.release();
  }
}

function failedResults(error: string): RestoreResults {
  return { components: [], ok: false, error, durationMs: 0 };
}

/** What the audit log keeps of how a restore ended. */
function summaryOf(
  restore: RestoreRecord,
  results: RestoreResults | null,
): Record<string, unknown> {
  return {
    error: restore.error,
    safetyBackupId: restore.safetyBackupId,
    durationMs: results?.durationMs ?? null,
    components: (results?.components ?? []).map((c) => ({
      component: c.component,
      destination: c.destination,
      status: c.status,
      ok: c.ok,
      checks: c.checks.length,
    })),
  };
}

/**
 * Appends the restore's events to the audit log as the worker, on behalf of the requester.
 * Recording must never change how a restore goes, so a failed append is only logged.
 */
function auditTrail(
  log: AuditLog | undefined,
  restore: RestoreRecord,
  logger: Logger,
): (action: string, outcome: string, detail: Record<string, unknown>) => Promise<void> {
  return async (action, outcome, detail) => {
    if (!log) return;
    await recordAudit(
      log,
      auditEvent({
        identity: restore.requestedBy,
        platform: 'worker',
        action,
        args: { restoreId: restore.id, backupId: restore.backupId },
        requestId: restore.authorization?.request ?? null,
        outcome,
        detail,
      }),
      logger,
    );
  };
}

function resultOf(record: RestoreRecord): RestoreJobResult {
  return {
    restoreId: record.id,
    status: record.status,
    durationMs: record.results?.durationMs ?? 0,
  };
}
