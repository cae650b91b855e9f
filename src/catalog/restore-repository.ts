import { LifeboatError } from '../core/errors.ts';
import type { RestorePlan } from '../restore/plan-restore.ts';
import type { RestoreRecord, RestoreStatus } from '../restore/restore-record.ts';
import type { RestoreResults } from '../restore/run-restore.ts';
import type { Database } from './database.ts';

export interface NewRestore {
  readonly id: string;
  readonly plan: RestorePlan;
  readonly requestedBy: string;
  /** `refused` records a request that will never run, with `error` saying why. */
  readonly status: 'queued' | 'refused';
  readonly error?: string | null;
}

/** The catalog's restores: how a restore moves from queued to completed or failed. */
export interface RestoreRepository {
  /** Records a restore. Recording an id again returns the existing record unchanged. */
  create(restore: NewRestore): Promise<RestoreRecord>;
  /** Marks a queued (or handed back) restore running and counts the attempt. */
  markRunning(id: string, options: { readonly attempt: number }): Promise<RestoreRecord>;
  markCompleted(id: string, results: RestoreResults): Promise<RestoreRecord>;
  /** Fails the restore; a restore that already ended stays as it is. */
  markFailed(id: string, error: string, results?: RestoreResults | null): Promise<RestoreRecord>;
  /** Puts a running restore back to queued, as when a worker shuts down and hands it back. */
  requeue(id: string): Promise<RestoreRecord>;
  get(id: string): Promise<RestoreRecord | undefined>;
}

interface RestoreRow {
  id: string;
  backup_id: string;
  profile: string;
  requested_by: string;
  status: RestoreStatus;
  plan: RestorePlan;
  results: RestoreResults | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const COLUMNS = `id, backup_id, profile, requested_by, status, plan, results, error, created_at,
  started_at, finished_at`;

/** Statuses a restore never leaves. */
const ENDED = `('completed', 'failed', 'refused')`;

export function createRestoreRepository(db: Database): RestoreRepository {
  const get = async (id: string) => {
    const [row] = await db.query<RestoreRow>(`SELECT ${COLUMNS} FROM restores WHERE id = $1`, [id]);
    return row ? toRecord(row) : undefined;
  };
  const unchanged = async (id: string) => {
    const existing = await get(id);
    if (!existing) {
      throw new LifeboatError('restore_not_found', `restore ${id} is not in the catalog`);
    }
    return existing;
  };

  return {
    async create(restore) {
      const ended = restore.status === 'refused';
      const [row] = await db.query<RestoreRow>(
        `INSERT INTO restores (id, backup_id, profile, requested_by, status, plan, error, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, CASE WHEN $8 THEN now() END)
         ON CONFLICT (id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          restore.id,
          restore.plan.backupId,
          restore.plan.profile,
          restore.requestedBy,
          restore.status,
          JSON.stringify(restore.plan),
          restore.error ?? null,
          ended,
        ],
      );
      return row ? toRecord(row) : unchanged(restore.id);
    },

    async markRunning(id, { attempt }) {
      const [row] = await db.query<RestoreRow>(
        `UPDATE restores
            SET status = 'running', started_at = now(), attempts = greatest(attempts + 1, $2)
          WHERE id = $1 AND status NOT IN ${ENDED}
          RETURNING ${COLUMNS}`,
        [id, attempt],
      );
      if (row) return toRecord(row);
      const existing = await unchanged(id);
      throw new LifeboatError('restore_ended', `restore ${id} has already ${existing.status}`);
    },

    async markCompleted(id, results) {
      const [row] = await db.query<RestoreRow>(
        `UPDATE restores
            SET status = 'completed', finished_at = now(), results = $2::jsonb, error = NULL
          WHERE id = $1 AND status NOT IN ${ENDED}
          RETURNING ${COLUMNS}`,
        [id, JSON.stringify(results)],
      );
      return row ? toRecord(row) : unchanged(id);
    },

    async markFailed(id, error, results = null) {
      const [row] = await db.query<RestoreRow>(
        `UPDATE restores
            SET status = 'failed', finished_at = now(), error = $2,
                results = coalesce($3::jsonb, results)
          WHERE id = $1 AND status NOT IN ${ENDED}
          RETURNING ${COLUMNS}`,
        [id, error, results === null ? null : JSON.stringify(results)],
      );
      return row ? toRecord(row) : unchanged(id);
    },

    async requeue(id) {
      const [row] = await db.query<RestoreRow>(
        `UPDATE restores SET status = 'queued', started_at = NULL
          WHERE id = $1 AND status = 'running'
          RETURNING ${COLUMNS}`,
        [id],
      );
      return row ? toRecord(row) : unchanged(id);
    },

    get,
  };
}

function toRecord(row: RestoreRow): RestoreRecord {
  return {
    id: row.id,
    backupId: row.backup_id,
    profile: row.profile,
    requestedBy: row.requested_by,
    status: row.status,
    plan: row.plan,
    results: row.results,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
