import type { AuditLog } from '../audit/audit-log.ts';
import { type AuditFailureLogger, auditEvent, recordAudit } from '../audit/audit-recorder.ts';
import type { ChannelRef, MessageRef } from '../chat/chat-adapter.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { PolicyError } from '../core/errors.ts';
import { compactTimestamp, newApprovalId, newRestoreId, randomSuffix } from '../core/ids.ts';
import type {
  ApprovalAction,
  ApprovalRepository,
  ApprovalRequest,
  ApprovalRequirement,
  CastVote,
  VoteResult,
} from './approval-request.ts';
import { breakGlassRefusal } from './break-glass.ts';
import { requirementFor } from './policy.ts';
import { approversOf, describeStanding, judgeVote, standingOf } from './rules.ts';
import { type ExecutionLookup, settleExecutions } from './settle-executions.ts';

/** Where a person acted from, for the audit log. */
export interface ActedFrom {
  readonly platform: string;
  readonly channel: ChannelRef;
}

/** An action that needs approval, as the command that hit the policy describes it. */
export interface ApprovalAsk {
  readonly action: string;
  /** The command as typed. */
  readonly command: string;
  readonly payload: ApprovalAction;
  readonly environments: readonly string[];
  readonly requirement: ApprovalRequirement;
  readonly requestedBy: string;
  readonly from: ActedFrom;
}

/** A break-glass action that runs at once and leaves a review for a second person. */
export interface BreakGlassAsk extends Omit<ApprovalAsk, 'requirement'> {
  readonly reason: string;
}

/**
 * The two-person rule as the commands use it: policies, requests, votes, reviews and expiry,
 * with every step in the audit log. The rules themselves live in `rules.ts` and `policy.ts`;
 * the repository applies them under a row lock, so they hold across processes.
 */
export interface Approvals {
  /** What the config asks of `action` on these environments; null when it needs no approval. */
  requirement(action: string, environments: readonly string[]): ApprovalRequirement | null;
  /** Records a pending request (audited as `approval.requested`). */
  request(ask: ApprovalAsk): Promise<ApprovalRequest>;
  /**
   * Records a break-glass review, its execution id fixed now: the caller runs the action under
   * `executionId` at once. Audited as `break-glass`.
   *
   * @throws PolicyError `break_glass_refused` when no break-glass role is configured or the
   * requester does not hold it; `break_glass_reason_required` for an empty or blank reason
   * (audited as a refused `break-glass`, nothing recorded).
   */
  breakGlass(ask: BreakGlassAsk): Promise<ApprovalRequest>;
  /** Remembers where the request message is, so later votes and expiry update it. */
  attachMessage(id: string, message: MessageRef): Promise<void>;
  /** Casts a vote (audited: approved, rejected, acknowledged or refused). */
  vote(id: string, vote: CastVote, from: ActedFrom): Promise<VoteResult>;
  /** Records how an approved action ended (audited as `approval.executed`). */
  finish(
    request: ApprovalRequest,
    status: 'executed' | 'failed',
    outcome: string,
  ): Promise<ApprovalRequest>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  /** Pending approvals and reviews, oldest first. */
  open(): Promise<ApprovalRequest[]>;
  /** Whether a vote by `identity` to approve (or acknowledge) would count now, by `judgeVote`. */
  canAct(identity: string, request: ApprovalRequest): boolean;
  /** Expires the pending approvals past their time (audited); returns them. */
  expireDue(): Promise<ApprovalRequest[]>;
  /**
   * Records the outcome of approved actions whose bot stopped or lost track before recording it,
   * as `lookup` finds their executions (see `settlementOf`); returns the requests it closed.
   */
  settle(lookup: ExecutionLookup): Promise<ApprovalRequest[]>;
}

export interface ApprovalsDeps {
  readonly config: Pick<LifeboatConfig, 'policies' | 'roles' | 'breakGlass'>;
  readonly repository: ApprovalRepository;
  readonly audit: AuditLog;
  readonly logger: AuditFailureLogger;
  /** @defaultValue the system clock */
  readonly now?: () => Date;
}

/** The id of what an approved action runs as: a restore id for restores. */
function executionIdFor(payload: ApprovalAction, at: Date): string {
  return payload.type === 'restore'
    ? newRestoreId(at)
    : `ex_${compactTimestamp(at)}_${randomSuffix(6)}`;
}

/** The audit entry of a request that expired, whether a sweep or a late vote found it. */
function expiredEvent(request: ApprovalRequest): Parameters<typeof auditEvent>[0] {
  return {
    identity: 'system:lifeboat',
    platform: 'lifeboat',
    channel: request.channel.channel,
    action: 'approval.expired',
    command: request.command,
    requestId: request.id,
    outcome: 'expired',
    detail: { expiresAt: request.expiresAt?.toISOString() ?? null, votes: request.votes.length },
  };
}

/** What every new request or review records of the ask. */
function factsOf(ask: Omit<ApprovalAsk, 'requirement'>, at: Date) {
  return {
    id: newApprovalId(at),
    action: ask.action,
    command: ask.command,
    payload: ask.payload,
    environments: ask.environments,
    requestedBy: ask.requestedBy,
    platform: ask.from.platform,
    channel: ask.from.channel,
    createdAt: at,
  };
}

export function createApprovals(deps: ApprovalsDeps): Approvals {
  const { config, repository } = deps;
  const now = deps.now ?? (() => new Date());
  const audit = (event: Parameters<typeof auditEvent>[0]) =>
    recordAudit(deps.audit, auditEvent(event), deps.logger);

  const finish: Approvals['finish'] = async (request, status, outcome) => {
    const { request: ended, recorded } = await repository.finish(
      request.id,
      status,
      outcome,
      now(),
    );
    // Recorded earlier (another process settled it first): the audit log has that outcome.
    if (!recorded) return ended;
    await audit({
      identity: request.requestedBy,
      platform: request.platform,
      channel: request.channel.channel,
      action: 'approval.executed',
      command: request.command,
      requestId: request.id,
      outcome: status === 'executed' ? 'completed' : 'failed',
      detail: { executionId: request.executionId, outcome },
    });
    return ended;
  };

  return {
    requirement: (action, environments) => requirementFor(config, action, environments),

    async request(ask) {
      const at = now();
      const request = await repository.create({
        ...factsOf(ask, at),
        kind: 'approval',
        requirement: ask.requirement,
        expiresAt: new Date(at.getTime() + ask.requirement.expiresInMs),
      });
      await audit({
        identity: ask.requestedBy,
        platform: ask.from.platform,
        channel: ask.from.channel.channel,
        action: 'approval.requested',
        command: ask.command,
        requestId: request.id,
        outcome: 'pending',
        detail: {
          action: ask.action,
          environments: ask.environments,
          clauses: ask.requirement.clauses,
          expiresAt: request.expiresAt?.toISOString() ?? null,
          ...(ask.payload.type === 'restore' ? { backup: ask.payload.plan.backupId } : {}),
        },
      });
      return request;
    },

    async breakGlass(ask) {
      // Enforced here, whoever calls: the role, and a reason the reviewer can read.
      const refusal = breakGlassRefusal(config, ask.requestedBy, ask.reason);
      if (refusal) {
        await audit({
          identity: ask.requestedBy,
          platform: ask.from.platform,
          channel: ask.from.channel.channel,
          action: 'break-glass',
          command: ask.command,
          outcome: 'refused',
          detail: { code: refusal.code, reason: refusal.message, action: ask.action },
        });
        throw new PolicyError(refusal.code, refusal.message);
      }
      const reason = ask.reason.trim();
      const at = now();
      // A second person reviews it: holders of any role but the one who broke the glass.
      const requirement: ApprovalRequirement = {
        clauses: [
          {
            environments: [...ask.environments],
            approvals: 1,
            approverRoles: [],
            policy: 'break-glass',
          },
        ],
        expiresInMs: 0,
      };
      const review = await repository.create({
        ...factsOf(ask, at),
        kind: 'review',
        requirement,
        expiresAt: null,
        reason,
        executionId: executionIdFor(ask.payload, at),
      });
      await audit({
        identity: ask.requestedBy,
        platform: ask.from.platform,
        channel: ask.from.channel.channel,
        action: 'break-glass',
        command: ask.command,
        requestId: review.id,
        outcome: 'executing',
        detail: {
          reason,
          action: ask.action,
          environments: ask.environments,
          executionId: review.executionId,
        },
      });
      return review;
    },

    attachMessage: (id, message) => repository.setMessage(id, message),

    async vote(id, vote, from) {
      const result = await repository.vote(id, vote, {
        now: now(),
        roles: config.roles,
        // Only the vote that completes the approval calls this, inside the locked transaction.
        newExecutionId: (request) => executionIdFor(request.payload, now()),
      });
      const base = {
        identity: vote.identity,
        platform: from.platform,
        channel: from.channel.channel,
        command: `/${vote.decision === 'approve' ? 'approve' : 'reject'} ${id}`,
        requestId: id,
      };
      if (result.outcome === 'refused') {
        await audit({
          ...base,
          action: 'approval.refused',
          outcome: 'refused',
          detail: { code: result.code, reason: result.reason, decision: vote.decision },
        });
        if (result.expiredNow && result.request) await audit(expiredEvent(result.request));
        return result;
      }
      const action =
        result.outcome === 'rejected'
          ? 'approval.rejected'
          : result.outcome === 'acknowledged'
            ? 'review.acknowledged'
            : 'approval.approved';
      await audit({
        ...base,
        action,
        outcome: result.outcome,
        detail: {
          votes: approversOf(result.request).length,
          standing: describeStanding(standingOf(result.request, config.roles), config.roles),
          ...(vote.reason ? { reason: vote.reason } : {}),
          ...(result.outcome === 'approved' ? { executionId: result.request.executionId } : {}),
        },
      });
      return result;
    },

    finish,

    get: (id) => repository.get(id),
    open: () => repository.listOpen(),

    canAct(identity, request) {
      // The same rules a vote meets, so the list never offers a button that would be refused.
      return judgeVote(
        request,
        { identity, decision: 'approve' },
        { now: now(), roles: config.roles },
      ).accept;
    },

    async expireDue() {
      const expired = await repository.expireDue(now());
      for (const request of expired) await audit(expiredEvent(request));
      return expired;
    },

    settle(lookup) {
      return settleExecutions({
        unfinished: () => repository.listUnfinished(),
        lookup,
        finish,
        now: now(),
      });
    },
  };
}
