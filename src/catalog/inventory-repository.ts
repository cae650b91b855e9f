import type { BackupStatus } from '../app/services.ts';
import type { Manifest } from '../backup/manifest.ts';
import { backupIdTime } from '../core/ids.ts';
import { replaceComponents } from './component-rows.ts';
import type { Database } from './database.ts';

/** A backup's id and status, as `lifeboat catalog rebuild` compares them with storage. */
export interface InventoryEntry {
  readonly id: string;
  readonly profile: string;
  readonly status: BackupStatus;
  /** Where the catalog says the backup is stored (its primary store's location), if known. */
  readonly location: string | null;
}

/** How recording a stored manifest changed the catalog. */
export type RecordOutcome = 'inserted' | 'updated' | 'unchanged';

/** The catalog as storage sees it: what `lifeboat catalog rebuild` reads and writes. */
export interface InventoryRepository {
  /** Every backup in the catalog, whatever its status. */
  all(): Promise<InventoryEntry[]>;
  /** Which of these backup ids the catalog has, whatever their status. */
  known(ids: readonly string[]): Promise<Set<string>>;
  /**
   * Records a backup found complete in storage: inserted when the catalog does not know it,
   * made `completed` with this manifest and its components when it knows it otherwise (failed,
   * pruned, or with another manifest), left alone when it already says exactly that.
   */
  recordStored(manifest: Manifest, location: string): Promise<RecordOutcome>;
  /**
   * Marks a completed backup whose manifest is gone from storage `pruned` with `reason`; returns
   * false when it was not completed.
   */
  markMissing(id: string, reason: string): Promise<boolean>;
}

export function createInventoryRepository(db: Database): InventoryRepository {
  return {
    all() {
      return db.query<InventoryEntry>(
        'SELECT id, profile, status, location FROM backups ORDER BY id',
      );
    },

    async known(ids) {
      const rows = await db.query<{ id: string }>('SELECT id FROM backups WHERE id = ANY($1)', [
        [...ids],
      ]);
      return new Set(rows.map((row) => row.id));
    },

    recordStored(manifest, location) {
      const json = JSON.stringify(manifest);
      return db.transaction(async (tx) => {
        const [existing] = await tx.query<{ status: string; same: boolean; components: number }>(
          `SELECT status, manifest IS NOT NULL AND manifest = $2::jsonb AS same,
                  (SELECT count(*)::int FROM backup_components c WHERE c.backup_id = b.id) AS components
             FROM backups b WHERE id = $1 FOR UPDATE`,
          [manifest.id, json],
        );
        if (
          existing?.status === 'completed' &&
          existing.same &&
          existing.components === manifest.components.length
        ) {
          return 'unchanged';
        }
        const bytes = manifest.components.reduce((sum, c) => sum + c.bytes, 0);
        const createdAt = backupIdTime(manifest.id) ?? new Date(manifest.startedAt);
        await tx.query(
          `INSERT INTO backups (id, profile, status, note, requested_by, targets, created_at,
                                started_at, finished_at, bytes, location, manifest)
           VALUES ($1, $2, 'completed', $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
           ON CONFLICT (id) DO UPDATE
              SET profile = EXCLUDED.profile, status = 'completed', note = EXCLUDED.note,
                  requested_by = EXCLUDED.requested_by, targets = EXCLUDED.targets,
                  started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
                  bytes = EXCLUDED.bytes, location = EXCLUDED.location,
                  manifest = EXCLUDED.manifest, error = NULL,
                  pruned_at = NULL, pruned_reason = NULL`,
          [
            manifest.id,
            manifest.profile,
            manifest.note,
            manifest.requestedBy,
            manifest.components.map((c) => c.name),
            createdAt,
            new Date(manifest.startedAt),
            new Date(manifest.finishedAt),
            bytes,
            location,
            json,
          ],
        );
        await replaceComponents(tx, manifest.id, manifest.components);
        return existing ? 'updated' : 'inserted';
      });
    },

    async markMissing(id, reason) {
      const rows = await db.query(
        `UPDATE backups SET status = 'pruned', pruned_at = now(), pruned_reason = $2
          WHERE id = $1 AND status = 'completed'
          RETURNING id`,
        [id, reason],
      );
      return rows.length > 0;
    },
  };
}
