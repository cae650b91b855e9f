import type {
  BackupCatalogView,
  BackupListFilter,
  BackupRecord,
  BackupStatus,
} from '../app/services.ts';
import { type Manifest, manifestSchema } from '../backup/manifest.ts';
import { LifeboatError } from '../core/errors.ts';
import { replaceComponents } from './component-rows.ts';
import type { Database, Queryable } from './database.ts';
import { REPLICAS_COLUMN, replicasFromColumn } from './replica-repository.ts';

export interface QueuedBackup {
  readonly id: string;
  readonly profile: string;
  readonly note: string | null;
  readonly requestedBy: string;
  /** The targets the profile names now; the backup takes these even if the profile changes. */
  readonly targets: readonly string[];
  readonly jobId?: string;
}

/** The catalog's backups: how a backup moves from queued to completed or failed. */
export interface BackupRepository extends BackupCatalogView {
  /** Records a queued backup. Recording an id again returns the existing record unchanged. */
  createQueued(backup: QueuedBackup): Promise<BackupRecord>;
  /**
   * Marks the backup running and counts the attempt (`attempt` is the queue's attempt number;
   * the count never goes below it). A completed or pruned backup cannot run again.
   */
  markRunning(id: string, options: { readonly attempt: number }): Promise<BackupRecord>;
  /**
   * Completes the backup in one transaction: status, location, the manifest, its components,
   * and `bytes` as the sum of the components' stored bytes. Doing it again replaces the
   * components with the new manifest's.
   */
  markCompleted(id: string, manifest: Manifest, location: string): Promise<BackupRecord>;
  /** Fails the backup with `error`. A completed (or pruned) backup stays as it is. */
  markFailed(id: string, error: string): Promise<BackupRecord>;
  /** Puts a running backup back to queued, as when a worker shuts down and hands its job back. */
  requeue(id: string): Promise<BackupRecord>;
  /** The newest completed backup of `profile`, if any. */
  latestCompleted(profile: string): Promise<BackupRecord | undefined>;
}

interface BackupRow {
  id: string;
  profile: string;
  status: BackupStatus;
  note: string | null;
  requested_by: string;
  targets: string[];
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  bytes: string | null;
  error: string | null;
  location: string | null;
  manifest: unknown;
  pruned_at: Date | null;
  pruned_reason: string | null;
  replicas: unknown;
}

const COLUMNS = `id, profile, status, note, requested_by, targets, created_at, started_at,
  finished_at, bytes, error, location, manifest, pruned_at, pruned_reason,
  ${REPLICAS_COLUMN}`;

export function createBackupRepository(db: Database): BackupRepository {
  const one = async (q: Queryable, id: string, sql: string, values: unknown[]) => {
    const [row] = await q.query<BackupRow>(sql, values);
    if (!row) throw notFound(id);
    return toRecord(row);
  };
  const get = async (id: string) => {
    const [row] = await db.query<BackupRow>(`SELECT ${COLUMNS} FROM backups WHERE id = $1`, [id]);
    return row ? toRecord(row) : undefined;
  };
  /** The record as it is, for an update whose condition did not hold. */
  const unchanged = async (id: string) => {
    const existing = await get(id);
    if (!existing) throw notFound(id);
    return existing;
  };

  return {
    async createQueued(backup) {
      const [inserted] = await db.query<BackupRow>(
        `INSERT INTO backups (id, profile, status, note, requested_by, targets, job_id)
         VALUES ($1, $2, 'queued', $3, $4, $5, $6)
         ON CONFLICT (id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          backup.id,
          backup.profile,
          backup.note,
          backup.requestedBy,
          [...backup.targets],
          backup.jobId ?? null,
        ],
      );
      return inserted ? toRecord(inserted) : unchanged(backup.id);
    },

    async markRunning(id, { attempt }) {
      const [row] = await db.query<BackupRow>(
        `UPDATE backups
            SET status = 'running', started_at = now(), finished_at = NULL, error = NULL,
                attempts = greatest(attempts + 1, $2)
          WHERE id = $1 AND status NOT IN ('completed', 'pruned')
          RETURNING ${COLUMNS}`,
        [id, attempt],
      );
      if (row) return toRecord(row);
      await unchanged(id);
      throw new LifeboatError('backup_already_completed', `backup ${id} has already completed`);
    },

    markCompleted(id, manifest, location) {
      if (manifest.id !== id) {
        throw new LifeboatError(
          'backup_manifest_mismatch',
          `the manifest of backup ${manifest.id} cannot complete backup ${id}`,
        );
      }
      const bytes = manifest.components.reduce((sum, c) => sum + c.bytes, 0);
      return db.transaction(async (tx) => {
        const record = await one(
          tx,
          id,
          `UPDATE backups
              SET status = 'completed', finished_at = now(), error = NULL,
                  bytes = $2, location = $3, manifest = $4::jsonb
            WHERE id = $1
            RETURNING ${COLUMNS}`,
          [id, bytes, location, JSON.stringify(manifest)],
        );
        await replaceComponents(tx, id, manifest.components);
        return record;
      });
    },

    async markFailed(id, error) {
      const [row] = await db.query<BackupRow>(
        `UPDATE backups SET status = 'failed', finished_at = now(), error = $2
          WHERE id = $1 AND status NOT IN ('completed', 'pruned')
          RETURNING ${COLUMNS}`,
        [id, error],
      );
      return row ? toRecord(row) : unchanged(id);
    },

    async requeue(id) {
      const [row] = await db.query<BackupRow>(
        `UPDATE backups SET status = 'queued', started_at = NULL
          WHERE id = $1 AND status = 'running'
          RETURNING ${COLUMNS}`,
        [id],
      );
      return row ? toRecord(row) : unchanged(id);
    },

    async latestCompleted(profile) {
      const [row] = await db.query<BackupRow>(
        `SELECT ${COLUMNS} FROM backups
          WHERE profile = $1 AND status = 'completed'
          ORDER BY created_at DESC, id DESC
          LIMIT 1`,
        [profile],
      );
      return row ? toRecord(row) : undefined;
    },

    async list(filter: BackupListFilter) {
      const rows = await db.query<BackupRow>(
        `SELECT ${COLUMNS} FROM backups
          WHERE ($1::text IS NULL OR profile = $1) AND ($3 OR status <> 'pruned')
          ORDER BY created_at DESC, id DESC
          LIMIT $2`,
        [filter.profile ?? null, filter.limit, filter.includePruned ?? false],
      );
      return rows.map(toRecord);
    },

    get,
  };
}

function toRecord(row: BackupRow): BackupRecord {
  return {
    id: row.id,
    profile: row.profile,
    status: row.status,
    note: row.note,
    requestedBy: row.requested_by,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    bytes: row.bytes === null ? null : Number(row.bytes),
    error: row.error,
    location: row.location,
    manifest: row.manifest === null ? null : parseManifest(row.manifest),
    targets: row.targets,
    prunedAt: row.pruned_at,
    prunedReason: row.pruned_reason,
    replicas: replicasFromColumn(row.replicas),
  };
}

/**
 * The catalog's copy of a manifest, or null when it does not validate (written by an older
 * version, or edited): one damaged row must never break listing every backup. Restores and
 * verifications read the manifest from the store and compare it with this copy, so a backup
 * whose copy is unusable is refused there, pointing at `lifeboat catalog rebuild`.
 */
function parseManifest(stored: unknown): Manifest | null {
  const parsed = manifestSchema.safeParse(stored);
  return parsed.success ? parsed.data : null;
}

function notFound(id: string): LifeboatError {
  return new LifeboatError('backup_not_found', `backup ${id} is not in the catalog`);
}
