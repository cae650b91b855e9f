import { LifeboatError } from '../core/errors.ts';
import {
  couldNotVerify,
  type VerificationLevel,
  type VerificationOutcome,
  type VerificationRecord,
  type VerificationResults,
  type VerificationStatus,
} from '../verify/verification.ts';
import type { Database } from './database.ts';

export interface NewVerification {
  readonly id: string;
  readonly backupId: string;
  readonly level: VerificationLevel;
  readonly requestedBy: string;
}

/**
 * The catalog's verifications of backups: queued, running while a worker holds it, then passed,
 * failed (a verdict) or error (could not check) with the results.
 */
export interface VerificationRepository {
  /** Records a queued verification. Recording an id again returns the existing record. */
  create(verification: NewVerification): Promise<VerificationRecord>;
  /**
   * Starts (or, after its worker died or handed its job back, restarts) a verification: it is
   * `running` and its clock restarts. An ended one is returned unchanged.
   */
  markStarted(id: string): Promise<VerificationRecord>;
  /** Puts a running verification back to queued, as a worker that shuts down hands it back. */
  requeue(id: string): Promise<VerificationRecord>;
  /** Every running verification, oldest first: a sweep looks for those whose worker is gone. */
  listRunning(): Promise<VerificationRecord[]>;
  /**
   * Ends a running verification as passed, at `level` when it ran at another level than it was
   * queued at (the default falls back to 1 without a key). An ended one is returned unchanged.
   */
  markPassed(
    id: string,
    results: VerificationResults,
    level?: VerificationLevel,
  ): Promise<VerificationRecord>;
  /** Ends a running verification as failed (see `markPassed`). An ended one stays unchanged. */
  markFailed(
    id: string,
    error: string,
    results: VerificationResults | null,
    level?: VerificationLevel,
  ): Promise<VerificationRecord>;
  /**
   * Ends a queued or running verification as `error`: it could not check (the store did not
   * answer, no key, its worker died), so it says nothing about the backup. `error` is the
   * reason, recorded as `could not verify: <reason>`. An ended one stays unchanged.
   */
  markError(
    id: string,
    error: string,
    results: VerificationResults | null,
    level?: VerificationLevel,
  ): Promise<VerificationRecord>;
  get(id: string): Promise<VerificationRecord | undefined>;
  /** The backup's most recent verification, whatever its status. */
  latestFor(backupId: string): Promise<VerificationRecord | undefined>;
  /** The most recent verification of each of the backups that has one, by backup id. */
  latestForEach(backupIds: readonly string[]): Promise<Map<string, VerificationRecord>>;
  /** The backup's verifications, newest first. */
  listFor(backupId: string, limit?: number): Promise<VerificationRecord[]>;
}

interface VerificationRow {
  id: string;
  backup_id: string;
  level: number;
  status: VerificationStatus;
  requested_by: string;
  started_at: Date;
  finished_at: Date | null;
  results: VerificationResults | null;
  error: string | null;
}

const COLUMNS =
  'id, backup_id, level, status, requested_by, started_at, finished_at, results, error';

export function createVerificationRepository(db: Database): VerificationRepository {
  const get = async (id: string) => {
    const [row] = await db.query<VerificationRow>(
      `SELECT ${COLUMNS} FROM backup_verifications WHERE id = $1`,
      [id],
    );
    return row ? toRecord(row) : undefined;
  };
  /** The update's row, or the record as it is when its condition did not hold. */
  const updated = async (id: string, rows: VerificationRow[]) => {
    const [row] = rows;
    if (row) return toRecord(row);
    const existing = await get(id);
    if (!existing) {
      throw new LifeboatError('verification_not_found', `verification ${id} is not in the catalog`);
    }
    return existing;
  };
  const finish = async (
    id: string,
    status: VerificationOutcome,
    error: string | null,
    results: VerificationResults | null,
    level: VerificationLevel | undefined,
  ) =>
    updated(
      id,
      await db.query<VerificationRow>(
        `UPDATE backup_verifications
            SET status = $2, error = $3, results = $4::jsonb, finished_at = now(),
                level = coalesce($5, level)
          WHERE id = $1 AND status IN ('queued', 'running')
          RETURNING ${COLUMNS}`,
        [id, status, error, results === null ? null : JSON.stringify(results), level ?? null],
      ),
    );

  return {
    async create(verification) {
      return updated(
        verification.id,
        await db.query<VerificationRow>(
          `INSERT INTO backup_verifications (id, backup_id, level, status, requested_by)
           VALUES ($1, $2, $3, 'queued', $4)
           ON CONFLICT (id) DO NOTHING
           RETURNING ${COLUMNS}`,
          [verification.id, verification.backupId, verification.level, verification.requestedBy],
        ),
      );
    },

    async markStarted(id) {
      return updated(
        id,
        await db.query<VerificationRow>(
          `UPDATE backup_verifications SET status = 'running', started_at = now()
            WHERE id = $1 AND status IN ('queued', 'running')
            RETURNING ${COLUMNS}`,
          [id],
        ),
      );
    },

    async requeue(id) {
      return updated(
        id,
        await db.query<VerificationRow>(
          `UPDATE backup_verifications SET status = 'queued'
            WHERE id = $1 AND status = 'running'
            RETURNING ${COLUMNS}`,
          [id],
        ),
      );
    },

    async listRunning() {
      const rows = await db.query<VerificationRow>(
        `SELECT ${COLUMNS} FROM backup_verifications
          WHERE status = 'running' ORDER BY started_at, id`,
      );
      return rows.map(toRecord);
    },

    markPassed: (id, results, level) => finish(id, 'passed', null, results, level),
    markFailed: (id, error, results, level) => finish(id, 'failed', error, results, level),
    markError: (id, error, results, level) =>
      finish(id, 'error', couldNotVerify(error), results, level),
    get,

    async latestFor(backupId) {
      const [row] = await db.query<VerificationRow>(
        `SELECT ${COLUMNS} FROM backup_verifications
          WHERE backup_id = $1 ORDER BY started_at DESC, id DESC LIMIT 1`,
        [backupId],
      );
      return row ? toRecord(row) : undefined;
    },

    async latestForEach(backupIds) {
      if (backupIds.length === 0) return new Map();
      const rows = await db.query<VerificationRow>(
        `SELECT DISTINCT ON (backup_id) ${COLUMNS} FROM backup_verifications
          WHERE backup_id = ANY($1::text[])
          ORDER BY backup_id, started_at DESC, id DESC`,
        [[...backupIds]],
      );
      return new Map(rows.map((row) => [row.backup_id, toRecord(row)]));
    },

    async listFor(backupId, limit = 20) {
      const rows = await db.query<VerificationRow>(
        `SELECT ${COLUMNS} FROM backup_verifications
          WHERE backup_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
        [backupId, limit],
      );
      return rows.map(toRecord);
    },
  };
}

function toRecord(row: VerificationRow): VerificationRecord {
  return {
    id: row.id,
    backupId: row.backup_id,
    level: row.level as VerificationLevel,
    status: row.status,
    requestedBy: row.requested_by,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    results: row.results,
    error: row.error,
  };
}
