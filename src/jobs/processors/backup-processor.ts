import { UnrecoverableError } from 'bullmq';
import { runBackup } from '../../backup/run-backup.ts';
import type { Catalog } from '../../catalog/open-catalog.ts';
import type { LifeboatConfig, TargetConfig } from '../../config/schema.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import type { BackupJobResult } from '../job-payloads.ts';
import { ProgressReporter } from '../progress-reporter.ts';
import { type JobProcessor, ShutdownAbort } from '../worker.ts';

export interface BackupProcessorDeps {
  readonly config: LifeboatConfig;
  readonly catalog: Pick<Catalog, 'backups' | 'targetLocks'>;
  readonly store: BackupStore;
  readonly lifeboatVersion: string;
}

/**
 * Runs one backup job. Safe to run again: a job that comes back after its worker died first
 * deletes whatever the earlier attempt left under the backup's prefix, and a job whose backup
 * already completed returns the recorded result.
 */
export function createBackupProcessor(deps: BackupProcessorDeps): JobProcessor<'backup'> {
  return async (payload, context) => {
    const { backups, targetLocks } = deps.catalog;
    const id = payload.backupId;
    const record = await backups.get(id);
    if (!record) throw new UnrecoverableError(`backup ${id} is not in the catalog`);
    if (record.status === 'completed') return resultOf(id, record.bytes ?? 0, record.location);

    const targets = resolveTargets(deps.config, record.targets);
    if (typeof targets === 'string') {
      await backups.markFailed(id, targets);
      throw new UnrecoverableError(targets);
    }

    const progress = new ProgressReporter(
      context,
      targets.map((t) => t.name),
    );
    let lock: { release(): Promise<void> } | undefined;
    try {
      lock = await targetLocks.acquire(
        targets.map((t) => t.name),
        `backup ${id}`,
        {
          signal: context.signal,
          onWait: (target, heldBy) =>
            progress.waiting(target, `waiting for ${heldBy ?? 'another job'} to finish with it`),
        },
      );
      await backups.markRunning(id, { attempt: context.attempt });
      await deps.store.deleteAll(`${id}/`);
      const manifest = await runBackup({
        id,
        profile: payload.profile,
        note: payload.note,
        requestedBy: payload.requestedBy,
        targets,
        compression: deps.config.compression,
        store: deps.store,
        signal: context.signal,
        lifeboatVersion: deps.lifeboatVersion,
        onProgress: (p) => progress.update(p),
      });
      const location = deps.store.describe(id);
      const completed = await backups.markCompleted(id, manifest, location);
      await progress.flush();
      return resultOf(id, completed.bytes ?? 0, location, manifest.durationMs);
    } catch (error) {
      if (context.signal.reason instanceof ShutdownAbort) {
        await backups.requeue(id);
        throw error;
      }
      const message = error instanceof Error ? error.message : String(error);
      await backups.markFailed(id, message);
      await progress.flush();
      throw new UnrecoverableError(message);
    } finally {
      progress.stop();
      await lock?.release();
    }
  };
}

function resultOf(
  backupId: string,
  bytes: number,
  location: string | null,
  durationMs = 0,
): BackupJobResult {
  return { backupId, bytes, durationMs, location: location ?? '' };
}

function resolveTargets(
  config: LifeboatConfig,
  names: readonly string[],
): { name: string; config: TargetConfig }[] | string {
  const out: { name: string; config: TargetConfig }[] = [];
  for (const name of names) {
    const target = config.targets[name];
    if (!target) {
      return `target "${name}" is no longer in the configuration; valid targets: ${Object.keys(config.targets).join(', ')}`;
    }
    out.push({ name, config: target });
  }
  return out;
}
