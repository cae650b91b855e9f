import { LifeboatError } from '../core/errors.ts';
import type { Database } from './database.ts';

export type JobStatus = 'queued' | 'active' | 'completed' | 'failed';

/** A queue job as the catalog keeps it after the queue has forgotten it. */
export interface JobRecord {
  readonly id: string;
  readonly kind: string;
  readonly status: JobStatus;
  readonly payload: unknown;
  readonly requestedBy: string;
  readonly backupId: string | null;
  readonly attempts: number;
  readonly result: unknown;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

export interface NewJob {
  readonly id: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly requestedBy: string;
  readonly backupId?: string | null;
}

/** The history of queue jobs. */
export interface JobRepository {
  /** Records a queued job. Recording an id again returns the existing record unchanged. */
  record(job: NewJob): Promise<JobRecord>;
  /** Marks the job active in its `attempt` (the queue's attempt number, from 1). */
  markActive(id: string, attempt: number): Promise<JobRecord>;
  markCompleted(id: string, result: unknown): Promise<JobRecord>;
  markFailed(id: string, error: string): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | undefined>;
}

interface JobRow {
  id: string;
  kind: string;
  status: JobStatus;
  payload: unknown;
  requested_by: string;
  backup_id: string | null;
  attempts: number;
  result: unknown;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const COLUMNS = `id, kind, status, payload, requested_by, backup_id, attempts, result, error,
  created_at, started_at, finished_at`;

export function createJobRepository(db: Database): JobRepository {
  const get = async (id: string) => {
    const [row] = await db.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [id]);
    return row ? toRecord(row) : undefined;
  };
  const update = async (id: string, sql: string, values: unknown[]) => {
    const [row] = await db.query<JobRow>(sql, [id, ...values]);
    if (!row) throw new LifeboatError('job_not_found', `job ${id} is not in the catalog`);
    return toRecord(row);
  };

  return {
    async record(job) {
      const [row] = await db.query<JobRow>(
        `INSERT INTO jobs (id, kind, status, payload, requested_by, backup_id)
         VALUES ($1, $2, 'queued', $3::jsonb, $4, $5)
         ON CONFLICT (id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          job.id,
          job.kind,
          JSON.stringify(job.payload ?? null),
          job.requestedBy,
          job.backupId ?? null,
        ],
      );
      if (row) return toRecord(row);
      const existing = await get(job.id);
      if (!existing) throw new LifeboatError('job_not_found', `job ${job.id} vanished`);
      return existing;
    },

    markActive(id, attempt) {
      return update(
        id,
        `UPDATE jobs SET status = 'active', attempts = greatest(attempts, $2), started_at = now(),
                finished_at = NULL, error = NULL
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [attempt],
      );
    },

    markCompleted(id, result) {
      return update(
        id,
        `UPDATE jobs SET status = 'completed', result = $2::jsonb, error = NULL, finished_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [toJson(result)],
      );
    },

    markFailed(id, error) {
      return update(
        id,
        `UPDATE jobs SET status = 'failed', error = $2, finished_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [error],
      );
    },

    get,
  };
}

/** JSON for a jsonb parameter; `undefined` is stored as SQL null. */
function toJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    payload: row.payload,
    requestedBy: row.requested_by,
    backupId: row.backup_id,
    attempts: row.attempts,
    result: row.result,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
