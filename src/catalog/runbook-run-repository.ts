import type { ChannelRef, MessageRef } from '../chat/chat-adapter.ts';
import type { Runbook } from '../runbook/model.ts';
import type { RunbookRun, RunbookRunRepository, RunTimelineEntry } from '../runbook/run-record.ts';
import type { RunState, RunStatus } from '../runbook/run-state.ts';
import type { Database } from './database.ts';

interface RunRow {
  id: string;
  runbook_name: string;
  runbook: Runbook;
  content_hash: string;
  params: Record<string, string>;
  started_by: string;
  platform: string;
  channel: ChannelRef;
  thread: {
    message: MessageRef;
    home: ChannelRef;
    step?: { step: number; ref: MessageRef };
  } | null;
  status: RunStatus;
  state: RunState;
  version: number;
  summary: string | null;
  started_at: Date;
  updated_at: Date;
  ended_at: Date | null;
}

interface EventRow {
  seq: number;
  at: Date;
  actor: string;
  step: number | null;
  kind: string;
  detail: string;
}

const COLUMNS = `id, runbook_name, runbook, content_hash, params, started_by, platform, channel,
  thread, status, state, version, summary, started_at, updated_at, ended_at`;

function toRun(row: RunRow): RunbookRun {
  return {
    id: row.id,
    runbookName: row.runbook_name,
    runbook: row.runbook,
    contentHash: row.content_hash,
    params: row.params,
    startedBy: row.started_by,
    platform: row.platform,
    channel: row.channel,
    thread: row.thread?.message ?? null,
    home: row.thread?.home ?? null,
    stepMessage: row.thread?.step ?? null,
    status: row.status,
    state: row.state,
    version: row.version,
    summary: row.summary,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
  };
}

/** When a state's WAIT is over, for the sweep's index. */
function waitUntil(state: RunState): Date | null {
  return state.phase.kind === 'waiting' ? new Date(state.phase.until) : null;
}

/**
 * Runbook runs in the catalog. A transition is one `UPDATE … WHERE version = $expected` and its
 * timeline row, in one transaction: of two transitions decided on the same version (a double
 * click, two replicas, a restart re-deciding), exactly one is written.
 */
export function createRunbookRunRepository(db: Database): RunbookRunRepository {
  const get = async (id: string) => {
    const [row] = await db.query<RunRow>(`SELECT ${COLUMNS} FROM runbook_runs WHERE id = $1`, [id]);
    return row ? toRun(row) : undefined;
  };
  return {
    async create(run, event) {
      return db.transaction(async (tx) => {
        const [row] = await tx.query<RunRow>(
          `INSERT INTO runbook_runs (id, runbook_name, runbook, content_hash, params, started_by,
             platform, channel, status, state, version, wait_until, started_at, updated_at,
             ended_at)
           VALUES ($1, $2, $3::jsonb, $4, $5::jsonb, $6, $7, $8::jsonb, $9, $10::jsonb, 0, $11,
             $12, $12, $13)
           RETURNING ${COLUMNS}`,
          [
            run.id,
            run.runbookName,
            JSON.stringify(run.runbook),
            run.contentHash,
            JSON.stringify(run.params),
            run.startedBy,
            run.platform,
            JSON.stringify(run.channel),
            run.status,
            JSON.stringify(run.state),
            waitUntil(run.state),
            run.startedAt,
            run.status === 'open' ? null : run.startedAt,
          ],
        );
        if (!row) throw new Error(`run ${run.id} was not recorded`);
        await tx.query(
          `INSERT INTO runbook_run_events (run_id, seq, at, actor, step, kind, detail)
           VALUES ($1, 0, $2, $3, $4, $5, $6)`,
          [run.id, run.startedAt, run.startedBy, event.step, event.kind, event.detail],
        );
        return toRun(row);
      });
    },

    get,

    async listOpen() {
      const rows = await db.query<RunRow>(
        `SELECT ${COLUMNS} FROM runbook_runs WHERE status = 'open' ORDER BY started_at, id`,
      );
      return rows.map(toRun);
    },

    async timeline(id) {
      const rows = await db.query<EventRow>(
        `SELECT seq, at, actor, step, kind, detail FROM runbook_run_events
          WHERE run_id = $1 ORDER BY seq`,
        [id],
      );
      return rows.map(
        (r): RunTimelineEntry => ({
          seq: r.seq,
          at: r.at,
          actor: r.actor,
          step: r.step,
          kind: r.kind,
          detail: r.detail,
        }),
      );
    },

    async transition(id, expectedVersion, next, event) {
      return db.transaction(async (tx) => {
        const [row] = await tx.query<RunRow>(
          `UPDATE runbook_runs
              SET status = $3, state = $4::jsonb, version = version + 1, wait_until = $5,
                  updated_at = $6, ended_at = CASE WHEN $3 = 'open' THEN NULL ELSE $6::timestamptz END
            WHERE id = $1 AND version = $2 AND status = 'open'
           RETURNING ${COLUMNS}`,
          [
            id,
            expectedVersion,
            next.status,
            JSON.stringify(next.state),
            waitUntil(next.state),
            event.at,
          ],
        );
        if (!row) return undefined;
        await tx.query(
          `INSERT INTO runbook_run_events (run_id, seq, at, actor, step, kind, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [id, row.version, event.at, event.actor, event.step, event.kind, event.detail],
        );
        return toRun(row);
      });
    },

    async setThread(id, thread, home) {
      await db.query('UPDATE runbook_runs SET thread = $2::jsonb WHERE id = $1', [
        id,
        JSON.stringify({ message: thread, home }),
      ]);
    },

    async setStepMessage(id, step, ref) {
      await db.query(
        `UPDATE runbook_runs SET thread = jsonb_set(thread, '{step}', $2::jsonb)
          WHERE id = $1 AND thread IS NOT NULL`,
        [id, JSON.stringify({ step, ref })],
      );
    },

    async setSummary(id, summary) {
      await db.query(
        `UPDATE runbook_runs SET summary = $2 WHERE id = $1 AND summary IS NULL AND status <> 'open'`,
        [id, summary],
      );
    },

    async listDueWaits(now) {
      const rows = await db.query<RunRow>(
        `SELECT ${COLUMNS} FROM runbook_runs
          WHERE status = 'open' AND wait_until IS NOT NULL AND wait_until <= $1
          ORDER BY wait_until, id`,
        [now],
      );
      return rows.map(toRun);
    },
  };
}
