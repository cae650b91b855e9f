import type { BackupReplica, ReplicaStatus } from '../app/services.ts';
import type { Database } from './database.ts';

/** A backup's copy in one replica store. */
export interface ReplicaRecord extends BackupReplica {
  readonly backupId: string;
}

/** The catalog's record of replication: one row per backup and replica store. */
export interface ReplicaRepository {
  /** Records that copying `backupId` to `store` (at `location`) started; replaces an earlier try. */
  markRunning(backupId: string, store: string, location: string): Promise<ReplicaRecord>;
  markCompleted(backupId: string, store: string, bytes: number): Promise<ReplicaRecord>;
  markFailed(backupId: string, store: string, error: string): Promise<ReplicaRecord>;
  /** The backup's replicas, by store name. */
  listFor(backupId: string): Promise<ReplicaRecord[]>;
}

interface ReplicaRow {
  backup_id: string;
  store: string;
  location: string;
  status: ReplicaStatus;
  error: string | null;
  bytes: string | number | null;
  finished_at: Date | string | null;
}

const COLUMNS = 'backup_id, store, location, status, error, bytes, finished_at';

/**
 * A `backups` query's column holding the row's replicas as JSON (`replicas`), for
 * {@link replicasFromColumn}: the backup repository reads them with every backup.
 */
export const REPLICAS_COLUMN = `(SELECT coalesce(json_agg(json_build_object(
    'backup_id', r.backup_id, 'store', r.store, 'location', r.location, 'status', r.status,
    'error', r.error, 'bytes', r.bytes, 'finished_at', r.finished_at) ORDER BY r.store), '[]')
  FROM backup_replicas r WHERE r.backup_id = backups.id) AS replicas`;

/** The replicas of {@link REPLICAS_COLUMN}. */
export function replicasFromColumn(value: unknown): BackupReplica[] {
  return Array.isArray(value) ? (value as ReplicaRow[]).map(toRecord) : [];
}

export function createReplicaRepository(db: Database): ReplicaRepository {
  const one = async (sql: string, values: unknown[]) => {
    const [row] = await db.query<ReplicaRow>(sql, values);
    if (!row) throw new Error(`no replica row for ${String(values[0])} in ${String(values[1])}`);
    return toRecord(row);
  };
  return {
    markRunning(backupId, store, location) {
      return one(
        `INSERT INTO backup_replicas (backup_id, store, location, status)
         VALUES ($1, $2, $3, 'running')
         ON CONFLICT (backup_id, store) DO UPDATE
           SET location = excluded.location, status = 'running', error = NULL, bytes = NULL,
               started_at = now(), finished_at = NULL
         RETURNING ${COLUMNS}`,
        [backupId, store, location],
      );
    },
    markCompleted(backupId, store, bytes) {
      return one(
        `UPDATE backup_replicas
            SET status = 'completed', error = NULL, bytes = $3, finished_at = now()
          WHERE backup_id = $1 AND store = $2
          RETURNING ${COLUMNS}`,
        [backupId, store, bytes],
      );
    },
    markFailed(backupId, store, error) {
      return one(
        `UPDATE backup_replicas
            SET status = 'failed', error = $3, finished_at = now()
          WHERE backup_id = $1 AND store = $2
          RETURNING ${COLUMNS}`,
        [backupId, store, error],
      );
    },
    async listFor(backupId) {
      const rows = await db.query<ReplicaRow>(
        `SELECT ${COLUMNS} FROM backup_replicas WHERE backup_id = $1 ORDER BY store`,
        [backupId],
      );
      return rows.map(toRecord);
    },
  };
}

function toRecord(row: ReplicaRow): ReplicaRecord {
  return {
    backupId: row.backup_id,
    store: row.store,
    location: row.location,
    status: row.status,
    error: row.error,
    bytes: row.bytes === null ? null : Number(row.bytes),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
  };
}
