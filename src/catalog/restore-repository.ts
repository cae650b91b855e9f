import { LifeboatError } from '../core/errors.ts';
import type { DestinationState } from '../restore/component-restorer.ts';
import type { RestorePlan } from '../restore/plan-restore.ts';
import {
  ENDED_RESTORE_STATUSES,
  type RestoreAuthorization,
  type RestoreRecord,
  type RestoreStatus,
} from '../restore/restore-record.ts';
import type { RestoreResults } from '../restore/run-restore.ts';
import type { UndoEntry, UndoJournal } from '../restore/undo-journal.ts';
import type { Database } from './database.ts';

export interface NewRestore {
  readonly id: string;
  readonly plan: RestorePlan;
  readonly requestedBy: string;
  /** What allows it into destinations that need approval. @defaultValue null */
  readonly authorization?: RestoreAuthorization | null;
}

/**
 * How a worker's claim on a restore went: `claimed` when this call moved it from `queued` to
 * `running`, so this attempt and no other runs it; otherwise the restore as it is (running under
 * another attempt, or ended).
 */
export type RestoreClaim =
  | { readonly claimed: true; readonly restore: RestoreRecord }
  | { readonly claimed: false; readonly restore: RestoreRecord };

/** The catalog's restores: how a restore moves from queued to completed or failed. */
export interface RestoreRepository {
  /** Records a queued restore. Recording an id again returns the existing record unchanged. */
  create(restore: NewRestore): Promise<RestoreRecord>;
  /**
   * Moves a queued (or handed back) restore to `running` and counts the attempt, in one
   * conditional update: of any number of attempts claiming one restore at once, exactly one
   * gets `claimed: true`. A restore that is already running or has ended is not claimed.
   */
  claim(id: string, options: { readonly attempt: number }): Promise<RestoreClaim>;
  /** Records the safety backup taken of the destinations before they were overwritten. */
  recordSafetyBackup(id: string, backupId: string): Promise<RestoreRecord>;
  markCompleted(id: string, results: RestoreResults): Promise<RestoreRecord>;
  /** Fails the restore; a restore that already ended stays as it is. */
  markFailed(id: string, error: string, results?: RestoreResults | null): Promise<RestoreRecord>;
  /**
   * Records where a component keeps what puts its destination back, before it writes there
   * (see `UndoJournal`).
   */
  recordUndo(
    id: string,
    entry: { component: string; destination: string; journal: UndoJournal },
  ): Promise<void>;
  /** Records what a component's restore left in its destination, once it knows. */
  recordDestinationState(id: string, component: string, state: DestinationState): Promise<void>;
  /** Puts a running restore back to queued, as when a worker shuts down and hands it back. */
  requeue(id: string): Promise<RestoreRecord>;
  get(id: string): Promise<RestoreRecord | undefined>;
  /** Every running restore, oldest first: a sweep looks for those whose worker is gone. */
  listRunning(): Promise<RestoreRecord[]>;
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
  authorized_by: RestoreAuthorization | null;
  safety_backup_id: string | null;
  undo: Record<string, UndoEntry>;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const COLUMNS = `id, backup_id, profile, requested_by, status, plan, results, error,
  authorized_by, safety_backup_id, undo, attempts, created_at, started_at, finished_at`;

/** Statuses a restore never leaves, as an SQL list. */
const ENDED = `(${ENDED_RESTORE_STATUSES.map((s) => `'${s}'`).join(', ')})`;

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
      const [row] = await db.query<RestoreRow>(
        `INSERT INTO restores (id, backup_id, profile, requested_by, status, plan, authorized_by)
         VALUES ($1, $2, $3, $4, 'queued', $5::jsonb, $6::jsonb)
         ON CONFLICT (id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          restore.id,
          restore.plan.backupId,
          restore.plan.profile,
          restore.requestedBy,
          JSON.stringify(restore.plan),
          restore.authorization ? JSON.stringify(restore.authorization) : null,
        ],
      );
      return row ? toRecord(row) : unchanged(restore.id);
    },

    async claim(id, { attempt }) {
      const [row] = await db.query<RestoreRow>(
        `UPDATE restores
            SET status = 'running', started_at = now(), attempts = greatest(attempts + 1, $2)
          WHERE id = $1 AND status = 'queued'
          RETURNING ${COLUMNS}`,
        [id, attempt],
      );
      if (row) return { claimed: true, restore: toRecord(row) };
      return { claimed: false, restore: await unchanged(id) };
    },

    async recordSafetyBackup(id, backupId) {
      const [row] = await db.query<RestoreRow>(
        `UPDATE restores SET safety_backup_id = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, backupId],
      );
      return row ? toRecord(row) : unchanged(id);
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

    async recordUndo(id, entry) {
      await db.query(
        `UPDATE restores SET undo = jsonb_set(undo, ARRAY[$2::text], $3::jsonb) WHERE id = $1`,
        [id, entry.component, JSON.stringify(entry)],
      );
    },

    async recordDestinationState(id, component, state) {
      // Only a component whose journal is recorded: the others never wrote anything.
      await db.query(
        `UPDATE restores SET undo = jsonb_set(undo, ARRAY[$2::text, 'state'], to_jsonb($3::text))
          WHERE id = $1 AND undo ? $2`,
        [id, component, state],
      );
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

    async listRunning() {
      const rows = await db.query<RestoreRow>(
        `SELECT ${COLUMNS} FROM restores WHERE status = 'running' ORDER BY started_at, id`,
      );
      return rows.map(toRecord);
    },
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
    authorization: row.authorized_by,
    safetyBackupId: row.safety_backup_id,
    undo: Object.values(row.undo ?? {}),
    results: row.results,
    error: row.error,
    attempts: row.attempts,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
