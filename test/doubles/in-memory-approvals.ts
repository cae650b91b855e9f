import type {
  ApprovalRepository,
  ApprovalRequest,
  FinishedRequest,
  NewApprovalRequest,
  VoteResult,
} from '../../src/approvals/approval-request.ts';
import {
  expiredReason,
  isPastExpiry,
  judgeVote,
  notFoundReason,
} from '../../src/approvals/rules.ts';
import type { MessageRef } from '../../src/chat/chat-adapter.ts';
import { LifeboatError } from '../../src/core/errors.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Lets other callers run, as a database round trip would, so a missing lock would show. */
const roundTrip = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Approval requests in memory with the catalog's rules: votes on one request are judged one at a
 * time behind a per-request lock (the row lock's stand-in), and every read returns a copy, so a
 * caller can never change a stored request by accident.
 */
export class InMemoryApprovals implements ApprovalRepository {
  readonly requests = new Map<string, Mutable<ApprovalRequest>>();
  private readonly locks = new Map<string, Promise<unknown>>();

  async create(request: NewApprovalRequest): Promise<ApprovalRequest> {
    const stored = this.requests.get(request.id);
    if (stored) return structuredClone(stored);
    if (request.executionId) this.assertUnusedExecutionId(request.executionId);
    const created: Mutable<ApprovalRequest> = {
      id: request.id,
      kind: request.kind,
      action: request.action,
      command: request.command,
      payload: structuredClone(request.payload),
      environments: [...request.environments],
      status: 'pending',
      requestedBy: request.requestedBy,
      platform: request.platform,
      channel: { ...request.channel },
      message: null,
      requirement: structuredClone(request.requirement),
      createdAt: new Date(request.createdAt),
      expiresAt: request.expiresAt ? new Date(request.expiresAt) : null,
      votes: [],
      decidedAt: null,
      decidedBy: null,
      reason: request.reason ?? null,
      executionId: request.executionId ?? null,
      executedAt: null,
      outcome: null,
      reviewOf: request.reviewOf ?? null,
    };
    this.requests.set(request.id, created);
    return structuredClone(created);
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    const stored = this.requests.get(id);
    return stored ? structuredClone(stored) : undefined;
  }

  async setMessage(id: string, message: MessageRef): Promise<void> {
    this.stored(id).message = { ...message };
  }

  vote(
    id: string,
    vote: Parameters<ApprovalRepository['vote']>[1],
    context: Parameters<ApprovalRepository['vote']>[2],
  ): Promise<VoteResult> {
    return this.locked(id, async (): Promise<VoteResult> => {
      const stored = this.requests.get(id);
      if (!stored) return { outcome: 'refused', code: 'not_found', reason: notFoundReason(id) };
      await roundTrip();
      if (isPastExpiry(stored, context.now)) {
        stored.status = 'expired';
        stored.decidedAt = stored.expiresAt;
        return {
          outcome: 'refused',
          code: 'expired',
          reason: expiredReason(stored),
          request: structuredClone(stored),
          expiredNow: true,
        };
      }
      const judgement = judgeVote(stored, vote, context);
      if (!judgement.accept) {
        return {
          outcome: 'refused',
          code: judgement.code,
          reason: judgement.reason,
          request: structuredClone(stored),
        };
      }
      await roundTrip();
      stored.votes = [
        ...stored.votes,
        {
          identity: vote.identity,
          decision: vote.decision,
          reason: vote.reason ?? null,
          at: new Date(context.now),
        },
      ];
      if (!judgement.completes) return { outcome: 'counted', request: structuredClone(stored) };
      stored.decidedAt = new Date(context.now);
      stored.decidedBy = vote.identity;
      if (vote.decision === 'reject') {
        stored.status = 'rejected';
        stored.reason = vote.reason ?? null;
        return { outcome: 'rejected', request: structuredClone(stored) };
      }
      if (stored.kind === 'review') {
        stored.status = 'acknowledged';
        return { outcome: 'acknowledged', request: structuredClone(stored) };
      }
      const executionId = context.newExecutionId(structuredClone(stored));
      this.assertUnusedExecutionId(executionId);
      stored.status = 'approved';
      stored.executionId = executionId;
      return { outcome: 'approved', request: structuredClone(stored) };
    });
  }

  async finish(
    id: string,
    status: 'executed' | 'failed',
    outcome: string,
    at: Date,
  ): Promise<FinishedRequest> {
    return this.locked(id, async () => {
      const stored = this.stored(id);
      const runs =
        (stored.kind === 'approval' && stored.status === 'approved') ||
        (stored.kind === 'review' && stored.executedAt === null);
      if (runs) {
        if (stored.kind === 'approval') stored.status = status;
        stored.outcome = outcome;
        stored.executedAt = new Date(at);
      } else if (stored.executedAt === null) {
        throw new LifeboatError(
          'approval_not_approved',
          `approval request ${id} is ${stored.status}, not approved: only an approved request runs, so there is no execution to record`,
        );
      }
      return { request: structuredClone(stored), recorded: runs };
    });
  }

  async expireDue(now: Date): Promise<ApprovalRequest[]> {
    const expired: ApprovalRequest[] = [];
    for (const candidate of this.sorted()) {
      if (candidate.kind !== 'approval' || !isPastExpiry(candidate, now)) continue;
      // Like the conditional UPDATE waiting for a vote's row lock, then checking again.
      const marked = await this.locked(candidate.id, async () => {
        const stored = this.stored(candidate.id);
        if (!isPastExpiry(stored, now)) return undefined;
        stored.status = 'expired';
        stored.decidedAt = stored.expiresAt;
        return structuredClone(stored);
      });
      if (marked) expired.push(marked);
    }
    return expired;
  }

  async listOpen(): Promise<ApprovalRequest[]> {
    return this.sorted()
      .filter((r) => r.status === 'pending')
      .map((r) => structuredClone(r));
  }

  async listUnfinished(): Promise<ApprovalRequest[]> {
    return this.sorted()
      .filter((r) =>
        r.kind === 'approval'
          ? r.status === 'approved'
          : r.executionId !== null && r.executedAt === null,
      )
      .map((r) => structuredClone(r));
  }

  async listRecent(limit: number): Promise<ApprovalRequest[]> {
    return this.sorted()
      .reverse()
      .slice(0, Math.max(0, Math.floor(limit)))
      .map((r) => structuredClone(r));
  }

  private sorted(): Mutable<ApprovalRequest>[] {
    return [...this.requests.values()].sort(
      (a, b) =>
        a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  private stored(id: string): Mutable<ApprovalRequest> {
    const stored = this.requests.get(id);
    if (!stored) {
      throw new LifeboatError('approval_not_found', `approval request ${id} is not in the catalog`);
    }
    return stored;
  }

  /** The catalog's UNIQUE execution_id: no two requests ever run the same thing. */
  private assertUnusedExecutionId(executionId: string): void {
    for (const r of this.requests.values()) {
      if (r.executionId === executionId) {
        throw new LifeboatError(
          'approval_execution_id_taken',
          `execution id ${executionId} already belongs to approval request ${r.id}`,
        );
      }
    }
  }

  /** Runs `work` after every earlier call on the same request has finished. */
  private locked<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(id) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.catch(() => undefined);
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return run;
  }
}
