import { UnrecoverableError } from 'bullmq';
import type { Catalog } from '../../catalog/open-catalog.ts';
import type { LifeboatConfig } from '../../config/schema.ts';
import type { AgeIdentity } from '../../crypto/age/index.ts';
import type { RestoreRecord } from '../../restore/restore-record.ts';
import { type RestoreResults, runRestore } from '../../restore/run-restore.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import { ProgressReporter } from '../progress-reporter.ts';
import { type JobProcessor, ShutdownAbort } from '../worker.ts';

export interface RestoreProcessorDeps {
  readonly config: LifeboatConfig;
  readonly catalog: Pick<Catalog, 'backups' | 'restores' | 'targetLocks'>;
  readonly store: BackupStore;
  /** The worker's age identities, read when a restore runs (see `loadAgeIdentities`). */
  readonly identities: () => readonly AgeIdentity[];
  /** Where components are staged. @defaultValue the OS temp directory (`TMPDIR`) */
  readonly stagingDirectory?: string;
}

/** What a restore job returns when it completes. */
export interface RestoreJobResult {
  readonly restoreId: string;
  readonly status: RestoreRecord['status'];
  readonly durationMs: number;
}

/**
 * Runs one restore job: the plan recorded at `/restore` time, against the config as it is now,
 * with the destinations' target locks held while they are written (a backup and a restore of
 * one target never overlap). Every failure is recorded on the restore and ends the job for good:
 * running a failed restore again is a person's decision.
 */
export function createRestoreProcessor(deps: RestoreProcessorDeps): JobProcessor<'restore'> {
  return async (payload, context) => {
    const { backups, restores, targetLocks } = deps.catalog;
    const id = payload.restoreId;
    const record = await restores.get(id);
    if (!record) throw new UnrecoverableError(`restore ${id} is not in the catalog`);
    if (
      record.status === 'completed' ||
      record.status === 'failed' ||
      record.status === 'refused'
    ) {
      return resultOf(record);
    }

    const { plan } = record;
    const progress = new ProgressReporter(
      context,
      plan.components.map((c) => c.component),
    );
    const componentOf = (destination: string) =>
      plan.components.find((c) => c.destination === destination)?.component ?? destination;
    let results: RestoreResults | undefined;
    try {
      await restores.markRunning(id, { attempt: context.attempt });
      const backup = await backups.get(plan.backupId);
      if (!backup?.manifest || backup.status !== 'completed') {
        const why = backup ? `it is ${backup.status}` : 'it is no longer in the catalog';
        throw new Error(`backup ${plan.backupId} cannot be restored: ${why}; nothing was changed`);
      }
      results = await runRestore({
        restoreId: id,
        plan,
        manifest: backup.manifest,
        config: deps.config,
        store: deps.store,
        identities: deps.identities(),
        ...(deps.stagingDirectory ? { stagingDirectory: deps.stagingDirectory } : {}),
        signal: context.signal,
        onProgress: (p) => progress.update(p),
        lockDestinations: (destinations) =>
          targetLocks.acquire(destinations, `restore ${id}`, {
            signal: context.signal,
            onWait: (target, heldBy) =>
              progress.waiting(
                componentOf(target),
                `waiting for ${heldBy ?? 'another job'} to finish with ${target}`,
              ),
          }),
      });
      const ended = results.ok
        ? await restores.markCompleted(id, results)
        : await restores.markFailed(id, results.error ?? 'the restore failed', results);
      await progress.flush();
      if (!results.ok) throw new UnrecoverableError(ended.error ?? 'the restore failed');
      return resultOf(ended);
    } catch (error) {
      if (error instanceof UnrecoverableError) throw error;
      if (context.signal.reason instanceof ShutdownAbort) {
        await restores.requeue(id);
        throw error;
      }
      const message = error instanceof Error ? error.message : String(error);
      await restores.markFailed(id, message, results ?? null);
      await progress.flush();
      throw new UnrecoverableError(message);
    } finally {
      progress.stop();
    }
  };
}

function resultOf(record: RestoreRecord): RestoreJobResult {
  return {
    restoreId: record.id,
    status: record.status,
    durationMs: record.results?.durationMs ?? 0,
  };
}
