import { MANIFEST_OBJECT, type Manifest } from '../backup/manifest.ts';
import { readCataloguedManifest } from '../backup/stored-manifest.ts';
import type { ReplicaRepository } from '../catalog/replica-repository.ts';
import { messageOf } from '../core/errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { replicateBackup } from '../storage/replicate-backup.ts';
import type { ReplicaResult } from './job-payloads.ts';

export interface ReplicationOptions {
  readonly manifest: Manifest;
  readonly primary: BackupStore;
  readonly replicas: readonly BackupStore[];
  readonly records: ReplicaRepository;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Leave alone the replicas the catalog already records as completed (a retried job). */
  readonly onlyMissing?: boolean;
}

/**
 * Copies a completed backup to each replica store in turn, recording each copy in the catalog.
 * A failed copy is logged as a warning (an alert) and recorded, never thrown: the backup is
 * complete on its primary store whatever happens to its copies. When `signal` aborts (the worker
 * shuts down), the copies not made are recorded as failed; the caller hands the job back so that
 * its retry makes them.
 */
export async function replicateToReplicas(options: ReplicationOptions): Promise<ReplicaResult[]> {
  const { manifest, records, logger, signal } = options;
  const backupId = manifest.id;
  const done = options.onlyMissing
    ? new Map(
        (await records.listFor(backupId))
          .filter((r) => r.status === 'completed')
          .map((r) => [r.store, r]),
      )
    : new Map();
  const pending = options.replicas.filter((replica) => !done.has(replica.name));
  // All at once first: whoever follows the backup sees from now on that copies are under way.
  const marked = new Set<string>();
  for (const replica of pending) {
    await records
      .markRunning(backupId, replica.name, replica.describe(backupId))
      .then(() => marked.add(replica.name))
      .catch(() => undefined);
  }
  // The copy takes the primary's manifest.json as it is: it must be the manifest in hand.
  const unreadable = pending.length
    ? await readCataloguedManifest([options.primary], { id: backupId, manifest, location: null })
        .then(() => undefined)
        .catch((error: unknown) => messageOf(error))
    : undefined;
  const results: ReplicaResult[] = [];
  for (const replica of options.replicas) {
    const recorded = done.get(replica.name);
    if (recorded) {
      results.push({ store: replica.name, status: 'completed', location: recorded.location });
      continue;
    }
    const location = replica.describe(backupId);
    try {
      signal?.throwIfAborted();
      if (!marked.has(replica.name)) await records.markRunning(backupId, replica.name, location);
      if (unreadable !== undefined) throw new Error(`nothing was copied: ${unreadable}`);
      const copied = await replicateBackup({
        backupId,
        objects: manifest.components,
        last: MANIFEST_OBJECT,
        from: options.primary,
        to: replica,
        ...(signal ? { signal } : {}),
      });
      await records.markCompleted(backupId, replica.name, copied.bytes);
      results.push({ store: replica.name, status: 'completed', location });
      logger.info(
        { backupId, store: replica.name, location, bytes: copied.bytes },
        `backup ${backupId} copied to the ${replica.name} replica`,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      results.push({ store: replica.name, status: 'failed', location, error: message });
      logger.warn(
        { backupId, store: replica.name, location, alert: 'replica_failed' },
        `ALERT: backup ${backupId} is complete, but its copy to the ${replica.name} replica failed: ${message}`,
      );
      await records.markFailed(backupId, replica.name, message).catch((recordError: unknown) => {
        logger.error(
          { err: recordError, backupId, store: replica.name },
          'recording a failed replica in the catalog failed',
        );
      });
    }
  }
  return results;
}
