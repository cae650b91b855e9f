import { UnrecoverableError } from 'bullmq';
import { backupWarnings } from '../../backup/component-warnings.ts';
import type { Manifest } from '../../backup/manifest.ts';
import { runBackup } from '../../backup/run-backup.ts';
import type { Catalog } from '../../catalog/open-catalog.ts';
import type { LifeboatConfig, TargetConfig } from '../../config/schema.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import { backupPrefix } from '../../storage/object-key.ts';
import type { BackupJob, BackupJobResult, ReplicaResult } from '../job-payloads.ts';
import { ProgressReporter } from '../progress-reporter.ts';
import { replicateToReplicas } from '../replication.ts';
import { type JobContext, type JobProcessor, ShutdownAbort } from '../worker.ts';

export interface BackupProcessorDeps {
  readonly config: LifeboatConfig;
  /** `replicas` records the copies; without it, nothing is copied to `replicas`. */
  readonly catalog: Pick<Catalog, 'backups' | 'targetLocks'> &
    Partial<Pick<Catalog, 'replicas' | 'backupClaims'>>;
  readonly store: BackupStore;
  /**
   * Stores every completed backup is copied to, unless the job says `replicate: false`
   * (`--no-replicate`). A failed copy is an alert and is recorded, not a failed backup.
   * @defaultValue none
   */
  readonly replicas?: readonly BackupStore[];
  readonly lifeboatVersion: string;
  /**
   * Called once the backup is completed in the catalog (e.g. to queue the retention prune of a
   * scheduled backup). Its failure is logged; the backup stays completed.
   */
  readonly afterCompleted?: (payload: BackupJob) => Promise<unknown>;
}

/**
 * Runs one backup job. Safe to run again: a job that comes back after its worker died first
 * deletes whatever the earlier attempt left under the backup's prefix, and a job whose backup
 * already completed makes the copies still missing and returns the recorded result.
 */
export function createBackupProcessor(deps: BackupProcessorDeps): JobProcessor<'backup'> {
  const copies = (payload: BackupJob) =>
    payload.replicate && deps.catalog.replicas && deps.replicas?.length ? deps.replicas : [];
  const replicate = (manifest: Manifest, context: JobContext, onlyMissing: boolean) => {
    const records = deps.catalog.replicas;
    if (!records || !deps.replicas?.length) return Promise.resolve([]);
    return replicateToReplicas({
      manifest,
      primary: deps.store,
      replicas: deps.replicas,
      records,
      logger: context.logger,
      signal: context.signal,
      onlyMissing,
    });
  };
  /** A claim on the backup while its copies read it, so that no prune deletes it under them. */
  const claimForCopies = (payload: BackupJob, context: JobContext) =>
    copies(payload).length && deps.catalog.backupClaims
      ? deps.catalog.backupClaims.hold(
          payload.backupId,
          `copy of ${payload.backupId} to ${copies(payload)
            .map((r) => `the ${r.name} replica`)
            .join(' and ')}`,
          { signal: context.signal },
        )
      : undefined;
  return async (payload, context) => {
    const { backups, targetLocks } = deps.catalog;
    const id = payload.backupId;
    const record = await backups.get(id);
    if (!record) throw new UnrecoverableError(`backup ${id} is not in the catalog`);
    if (record.status === 'completed') {
      const reading = await claimForCopies(payload, context);
      try {
        const current = await backups.get(id);
        const replicas =
          payload.replicate && current?.status === 'completed' && current.manifest
            ? await replicate(current.manifest, context, true)
            : [];
        context.signal.throwIfAborted();
        return resultOf(id, record.bytes ?? 0, record.location, 0, replicas);
      } finally {
        await reading?.release();
      }
    }

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
    let reading: { release(): Promise<void> } | undefined;
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
      await deps.store.deleteAll(backupPrefix(id));
      const manifest = await runBackup({
        id,
        profile: payload.profile,
        note: payload.note,
        requestedBy: payload.requestedBy,
        targets,
        compression: deps.config.compression,
        ...(deps.config.encryption ? { encryption: deps.config.encryption } : {}),
        store: deps.store,
        signal: context.signal,
        lifeboatVersion: deps.lifeboatVersion,
        onProgress: (p) => progress.update(p),
      });
      const location = deps.store.describe(id);
      // Claimed before it is completed, so that no prune can take it before its copies are made.
      reading = await claimForCopies(payload, context);
      const completed = await backups.markCompleted(id, manifest, location);
      await progress.flush();
      alertIfIncomplete(manifest, context);
      const replicas = payload.replicate ? await replicate(manifest, context, false) : [];
      // Shut down mid-copy: the job goes back to the queue, and its retry makes the copies left.
      context.signal.throwIfAborted();
      await deps.afterCompleted?.(payload).catch((error: unknown) => {
        context.logger.error(
          { err: error, backupId: id },
          'the follow-up of a completed backup failed',
        );
      });
      return resultOf(id, completed.bytes ?? 0, location, manifest.durationMs, replicas);
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
      await reading?.release();
      await lock?.release();
    }
  };
}

/**
 * A scheduled backup has nobody watching its message: one that left something out is an alert
 * in the logs, as a failed replica is.
 */
function alertIfIncomplete(manifest: Manifest, context: JobContext): void {
  const missing = backupWarnings(manifest).filter((w) => w.kind === 'incomplete');
  if (missing.length === 0) return;
  const first = missing
    .slice(0, 3)
    .map((w) => `${w.component}: ${w.message}`)
    .join('; ');
  context.logger.warn(
    { backupId: manifest.id, alert: 'backup_incomplete', warnings: missing.length },
    `ALERT: backup ${manifest.id} completed, but ${missing.length} thing${missing.length === 1 ? ' is' : 's are'} not in it, or not whole: ${first}${missing.length > 3 ? '; …' : ''}`,
  );
}

function resultOf(
  backupId: string,
  bytes: number,
  location: string | null,
  durationMs = 0,
  replicas: readonly ReplicaResult[] = [],
): BackupJobResult {
  return {
    backupId,
    bytes,
    durationMs,
    location: location ?? '',
    ...(replicas.length ? { replicas } : {}),
  };
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
