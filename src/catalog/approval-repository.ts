import type {
  ApprovalAction,
  ApprovalKind,
  ApprovalRepository,
  ApprovalRequest,
  ApprovalStatus,
  ApprovalVote,
  VoteResult,
} from '../approvals/approval-request.ts';
import { storedRequirement } from '../approvals/policy.ts';
import { expiredReason, isPastExpiry, judgeVote, notFoundReason } from '../approvals/rules.ts';
import type { ChannelRef, MessageRef } from '../chat/chat-adapter.ts';
import { LifeboatError } from '../core/errors.ts';
import type { Database, Queryable } from './database.ts';

interface RequestRow {
  id: string;
  kind: ApprovalKind;
  action: string;
  command: string;
  payload: ApprovalAction;
  environments: string[];
  status: ApprovalStatus;
  requested_by: string;
  platform: string;
  channel: ChannelRef;
  message: MessageRef | null;
  /** An `ApprovalRequirement`, or the single rule stored before clauses existed. */
  requirement: unknown;
  created_at: Date;
  expires_at: Date | null;
  decided_at: Date | null;
  decided_by: string | null;
  reason: string | null;
  execution_id: string | null;
  executed_at: Date | null;
  outcome: string | null;
  review_of: string | null;
}

interface VoteRow {
  request_id: string;
  identity: string;
  decision: 'approve' | 'reject';
  reason: string | null;
  at: Date;
}

const COLUMNS = `id, kind, action, command, payload, environments, status, requested_by, platform,
  channel, message, requirement, created_at, expires_at, decided_at, decided_by, reason,
  execution_id, executed_at, outcome, review_of`;

/**
 * Approval requests in the catalog. Every vote runs in one transaction that holds the request's
 * row lock (`SELECT … FOR UPDATE`) from reading it to writing the decision, so votes on one
 * request are judged one after the other, whichever process casts them: two approvals racing,
 * a double click or two bot replicas still yield exactly one `approved` outcome and one
 * execution id.
 */
export function createApprovalRepository(db: Database): ApprovalRepository {
  const get = async (id: string, q: Queryable = db) => {
    const [row] = await q.query<RequestRow>(
      `SELECT ${COLUMNS} FROM approval_requests WHERE id = $1`,
      [id],
    );
    return row ? (await withVotes(q, [row]))[0] : undefined;
  };
  const existing = async (id: string) => {
    const request = await get(id);
    if (!request) throw notFound(id);
    return request;
  };

  return {
    async create(request) {
      const [row] = await db.query<RequestRow>(
        `INSERT INTO approval_requests (id, kind, action, command, payload, environments, status,
           requested_by, platform, channel, requirement, created_at, expires_at, reason,
           execution_id, review_of)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::text[], 'pending', $7, $8, $9::jsonb, $10::jsonb,
           $11, $12, $13, $14, $15)
         ON CONFLICT (id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          request.id,
          request.kind,
          request.action,
          request.command,
          JSON.stringify(request.payload),
          [...request.environments],
          request.requestedBy,
          request.platform,
          JSON.stringify(request.channel),
          JSON.stringify(request.requirement),
          request.createdAt,
          request.expiresAt,
          request.reason ?? null,
          request.executionId ?? null,
          request.reviewOf ?? null,
        ],
      );
      // Recording an id again returns the request as it is, like the other repositories.
      return row ? toRequest(row, []) : existing(request.id);
    },

    get: (id) => get(id),

    async setMessage(id, message) {
      const rows = await db.query(
        'UPDATE approval_requests SET message = $2::jsonb WHERE id = $1 RETURNING id',
        [id, JSON.stringify(message)],
      );
      if (rows.length === 0) throw notFound(id);
    },

    vote(id, vote, context) {
      return db.transaction(async (tx): Promise<VoteResult> => {
        const [row] = await tx.query<RequestRow>(
          `SELECT ${COLUMNS} FROM approval_requests WHERE id = $1 FOR UPDATE`,
          [id],
        );
        if (!row) return { outcome: 'refused', code: 'not_found', reason: notFoundReason(id) };
        const [request] = await withVotes(tx, [row]);
        if (!request) throw notFound(id);

        if (isPastExpiry(request, context.now)) {
          // Committed, not rolled back: the request is expired whether or not the vote counted.
          const expired = await updated(
            tx,
            `UPDATE approval_requests SET status = 'expired', decided_at = expires_at
              WHERE id = $1 RETURNING ${COLUMNS}`,
            [id],
          );
          return {
            outcome: 'refused',
            code: 'expired',
            reason: expiredReason(expired),
            request: expired,
            expiredNow: true,
          };
        }

        const judgement = judgeVote(request, vote, context);
        if (!judgement.accept) {
          return { outcome: 'refused', code: judgement.code, reason: judgement.reason, request };
        }

        await tx.query(
          `INSERT INTO approval_votes (request_id, identity, decision, reason, at)
           VALUES ($1, $2, $3, $4, $5)`,
          [id, vote.identity, vote.decision, vote.reason ?? null, context.now],
        );
        if (!judgement.completes) {
          return { outcome: 'counted', request: await reload(tx, id) };
        }
        if (vote.decision === 'reject') {
          const rejected = await updated(
            tx,
            `UPDATE approval_requests
                SET status = 'rejected', decided_at = $2, decided_by = $3, reason = $4
              WHERE id = $1 RETURNING ${COLUMNS}`,
            [id, context.now, vote.identity, vote.reason ?? null],
          );
          return { outcome: 'rejected', request: rejected };
        }
        if (request.kind === 'review') {
          // The break-glass reason and the execution id stay as they were.
          const acknowledged = await updated(
            tx,
            `UPDATE approval_requests
                SET status = 'acknowledged', decided_at = $2, decided_by = $3
              WHERE id = $1 RETURNING ${COLUMNS}`,
            [id, context.now, vote.identity],
          );
          return { outcome: 'acknowledged', request: acknowledged };
        }
        const approved = await updated(
          tx,
          `UPDATE approval_requests
              SET status = 'approved', decided_at = $2, decided_by = $3, execution_id = $4
            WHERE id = $1 RETURNING ${COLUMNS}`,
          [id, context.now, vote.identity, context.newExecutionId(request)],
        );
        return { outcome: 'approved', request: approved };
      });
    },

    async finish(id, status, outcome, at) {
      // An approval moves approved → executed | failed. A review keeps its status (it waits for,
      // or already has, its acknowledgement) and records how the action it reviews ended.
      const [row] = await db.query<RequestRow>(
        `UPDATE approval_requests
            SET status = CASE WHEN kind = 'approval' THEN $2 ELSE status END,
                outcome = $3, executed_at = $4
          WHERE id = $1
            AND ((kind = 'approval' AND status = 'approved')
                 OR (kind = 'review' AND executed_at IS NULL))
          RETURNING ${COLUMNS}`,
        [id, status, outcome, at],
      );
      if (row) {
        return { request: (await withVotes(db, [row]))[0] as ApprovalRequest, recorded: true };
      }
      const request = await existing(id);
      // Finishing twice returns the first record unchanged: the outcome is written once.
      if (request.executedAt !== null) return { request, recorded: false };
      throw new LifeboatError(
        'approval_not_approved',
        `approval request ${id} is ${request.status}, not approved: only an approved request runs, so there is no execution to record`,
      );
    },

    async expireDue(now) {
      // One conditional UPDATE: sweeps in several processes at once each expire different
      // requests, and a request a vote is deciding (row locked) is re-checked after that vote.
      const rows = await db.query<RequestRow>(
        `UPDATE approval_requests SET status = 'expired', decided_at = expires_at
          WHERE status = 'pending' AND kind = 'approval' AND expires_at <= $1
          RETURNING ${COLUMNS}`,
        [now],
      );
      rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || cmp(a.id, b.id));
      return withVotes(db, rows);
    },

    async listOpen() {
      const rows = await db.query<RequestRow>(
        `SELECT ${COLUMNS} FROM approval_requests WHERE status = 'pending'
          ORDER BY created_at, id`,
      );
      return withVotes(db, rows);
    },

    async listUnfinished() {
      const rows = await db.query<RequestRow>(
        `SELECT ${COLUMNS} FROM approval_requests
          WHERE (kind = 'approval' AND status = 'approved')
             OR (kind = 'review' AND execution_id IS NOT NULL AND executed_at IS NULL)
          ORDER BY created_at, id`,
      );
      return withVotes(db, rows);
    },

    async listRecent(limit) {
      const rows = await db.query<RequestRow>(
        `SELECT ${COLUMNS} FROM approval_requests ORDER BY created_at DESC, id DESC LIMIT $1`,
        [Math.max(0, Math.floor(limit))],
      );
      return withVotes(db, rows);
    },
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function notFound(id: string): LifeboatError {
  return new LifeboatError('approval_not_found', `approval request ${id} is not in the catalog`);
}

async function updated(q: Queryable, text: string, values: readonly unknown[]) {
  const [row] = await q.query<RequestRow>(text, values);
  if (!row) throw new LifeboatError('approval_not_found', `approval request ${values[0]} vanished`);
  return (await withVotes(q, [row]))[0] as ApprovalRequest;
}

async function reload(q: Queryable, id: string): Promise<ApprovalRequest> {
  return updated(q, `SELECT ${COLUMNS} FROM approval_requests WHERE id = $1`, [id]);
}

/** The requests with their votes, oldest vote first; one query for all of them. */
async function withVotes(q: Queryable, rows: readonly RequestRow[]): Promise<ApprovalRequest[]> {
  if (rows.length === 0) return [];
  const votes = await q.query<VoteRow>(
    `SELECT request_id, identity, decision, reason, at FROM approval_votes
      WHERE request_id = ANY($1::text[]) ORDER BY at, seq`,
    [rows.map((r) => r.id)],
  );
  const byRequest = new Map<string, ApprovalVote[]>();
  for (const v of votes) {
    const list = byRequest.get(v.request_id) ?? [];
    list.push({ identity: v.identity, decision: v.decision, reason: v.reason, at: v.at });
    byRequest.set(v.request_id, list);
  }
  return rows.map((row) => toRequest(row, byRequest.get(row.id) ?? []));
}

function toRequest(row: RequestRow, votes: readonly ApprovalVote[]): ApprovalRequest {
  return {
    id: row.id,
    kind: row.kind,
    action: row.action,
    command: row.command,
    payload: row.payload,
    environments: row.environments,
    status: row.status,
    requestedBy: row.requested_by,
    platform: row.platform,
    channel: row.channel,
    message: row.message,
    // Requests stored before clauses existed hold one rule: read as its one clause.
    requirement: storedRequirement(row.requirement, row.environments),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    votes,
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
    reason: row.reason,
    executionId: row.execution_id,
    executedAt: row.executed_at,
    outcome: row.outcome,
    reviewOf: row.review_of,
  };
}
