import type { ChannelRef, MessageRef } from '../chat/chat-adapter.ts';
import type { RestorePlan } from '../restore/plan-restore.ts';
import type { UncheckedRestore } from '../restore/restore-checks.ts';

/**
 * `approval`: an action waiting for a second person (the two-person rule).
 * `review`: a break-glass action that already ran and waits for a second person to acknowledge it.
 */
export type ApprovalKind = 'approval' | 'review';

/**
 * An approval moves `pending` → `approved` (enough approvers; its execution id is fixed at that
 * moment, once) → `executed` or `failed`; or `pending` → `rejected` | `expired`.
 * A review moves `pending` → `acknowledged`.
 */
export type ApprovalStatus =
  | 'pending'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'executed'
  | 'failed'
  | 'acknowledged';

/**
 * The full action, stored server-side: what runs on approval is exactly what was asked for.
 * A restore keeps its plan with the backup id resolved (`latest` never changes meaning between
 * the request and its approval), and, when its checks could not run where restores run, why
 * (shown to the approver); any other command keeps its text, run again as the requester.
 */
export type ApprovalAction =
  | {
      readonly type: 'restore';
      readonly plan: RestorePlan;
      /** @defaultValue absent: the restore was checked where restores run */
      readonly unchecked?: UncheckedRestore;
    }
  | { readonly type: 'command'; readonly text: string }
  /**
   * A runbook's approval gate (`> [!APPROVAL] N from ROLES`): approving it lets run `run` go on
   * past step `step`; nothing else runs.
   */
  | {
      readonly type: 'runbook-gate';
      readonly run: string;
      readonly step: number;
      readonly title: string;
    };

export interface ApprovalVote {
  readonly identity: string;
  readonly decision: 'approve' | 'reject';
  readonly reason: string | null;
  readonly at: Date;
}

/**
 * One rule a request must meet: this many approvers besides the requester, from these roles.
 * A request several policies apply to (a restore into production and staging) holds one clause
 * per deciding policy, and is approved only when every clause is met.
 */
export interface ApprovalClause {
  /** The environments whose deciding policy this is; empty for an action touching none. */
  readonly environments: readonly string[];
  /** Approvers needed besides the requester (≥ 1). */
  readonly approvals: number;
  /** Roles whose holders count; empty: any configured role (any other identity without roles). */
  readonly approverRoles: readonly string[];
  /** Which policy decided: `policies[2]`, or `default` for the built-in production rule. */
  readonly policy: string;
}

/** What the policies ask of a request: every clause met, within the shortest expiry. */
export interface ApprovalRequirement {
  /** At least one; every one must be met. */
  readonly clauses: readonly ApprovalClause[];
  /** How long the request stays open: the shortest of the deciding policies' expiries. */
  readonly expiresInMs: number;
}

/** What a request is from the moment it is asked for: the action, who asked, where, the rule. */
interface ApprovalRequestFacts {
  /** `apr_20261122T120000Z_7q3k9x`. */
  readonly id: string;
  readonly kind: ApprovalKind;
  /** The policy action: `restore`, `backup.prune`, `drill.run`, … */
  readonly action: string;
  /** The command as the requester typed it, for people. */
  readonly command: string;
  readonly payload: ApprovalAction;
  /** The environments the action touches (the destinations' for a restore). */
  readonly environments: readonly string[];
  readonly requestedBy: string;
  /** The requester's platform and channel, where the request message was posted. */
  readonly platform: string;
  readonly channel: ChannelRef;
  readonly requirement: ApprovalRequirement;
  readonly createdAt: Date;
  /** Null for reviews: they stay open until acknowledged. */
  readonly expiresAt: Date | null;
}

export interface ApprovalRequest extends ApprovalRequestFacts {
  readonly status: ApprovalStatus;
  /** The request message, once posted: updated as people act and when it expires. */
  readonly message: MessageRef | null;
  /** Every counted vote, oldest first. */
  readonly votes: readonly ApprovalVote[];
  /** When it left `pending`, and who moved it (the last approver, the rejecter, the acknowledger). */
  readonly decidedAt: Date | null;
  readonly decidedBy: string | null;
  /** The rejection's reason; for a review, the break-glass reason. */
  readonly reason: string | null;
  /** Set once, when the request becomes `approved`: the id of what runs (`rs_…`, `ex_…`). */
  readonly executionId: string | null;
  readonly executedAt: Date | null;
  /** How the execution ended, for people (`restore rs_… completed`). */
  readonly outcome: string | null;
  /** For a review: the request id of the break-glass action it reviews, if any. */
  readonly reviewOf: string | null;
}

export interface NewApprovalRequest extends ApprovalRequestFacts {
  /** A review's break-glass reason. */
  readonly reason?: string | null;
  /** A review is created with its execution already under way: the id of what ran. */
  readonly executionId?: string | null;
  /** For a review: the request id of the break-glass action it reviews, if any. */
  readonly reviewOf?: string | null;
}

/** Why a vote did not count: stable codes for tests and logs, with a sentence for people. */
export type VoteRefusalCode =
  | 'not_found'
  | 'own_request'
  | 'already_voted'
  | 'not_an_approver'
  /** The voter counts only for clauses already met: their approval would change nothing. */
  | 'not_needed'
  | 'expired'
  | 'rejected'
  | 'already_approved'
  | 'executed'
  | 'acknowledged'
  | 'wrong_kind';

export type VoteResult =
  | {
      /** The vote counted; more approvers are still needed. */
      readonly outcome: 'counted';
      readonly request: ApprovalRequest;
    }
  | {
      /**
       * This vote completed the approval: the caller, and only this caller, must now run the
       * action under `request.executionId`.
       */
      readonly outcome: 'approved';
      readonly request: ApprovalRequest;
    }
  | { readonly outcome: 'rejected'; readonly request: ApprovalRequest }
  | { readonly outcome: 'acknowledged'; readonly request: ApprovalRequest }
  | {
      readonly outcome: 'refused';
      readonly code: VoteRefusalCode;
      /** For people: what was wrong and what to do instead. */
      readonly reason: string;
      /** The request as it is now (absent for `not_found`). */
      readonly request?: ApprovalRequest;
      /** True when this very call found the request past its expiry and marked it expired. */
      readonly expiredNow?: boolean;
    };

/** A request after `finish`, and whether this call is the one that recorded its outcome. */
export interface FinishedRequest {
  readonly request: ApprovalRequest;
  readonly recorded: boolean;
}

/** A vote as cast: approve (or acknowledge, for a review) or reject. */
export interface CastVote {
  readonly identity: string;
  readonly decision: 'approve' | 'reject';
  readonly reason?: string | null;
}

/** Who holds which role: the config's `roles` (absent: no roles configured). */
export type RoleMap = Readonly<Record<string, readonly string[]>> | undefined;

/** The catalog's approval requests. Every state change happens under a row lock. */
export interface ApprovalRepository {
  create(request: NewApprovalRequest): Promise<ApprovalRequest>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  /** Remembers where the request message was posted. */
  setMessage(id: string, message: MessageRef): Promise<void>;
  /**
   * Casts a vote in one transaction: locks the request, marks it expired if it is past its
   * expiry, judges the vote (see `judgeVote`), records it, and moves the request on when it
   * decides it (enough approvals → `approved` with `newExecutionId(request)` as its execution id;
   * a rejection → `rejected`; a review's approval → `acknowledged`).
   */
  vote(
    id: string,
    vote: CastVote,
    context: {
      readonly now: Date;
      readonly roles: RoleMap;
      /** The execution id of the request this vote approves (its action decides the kind). */
      readonly newExecutionId: (request: ApprovalRequest) => string;
    },
  ): Promise<VoteResult>;
  /**
   * Records how the execution ended: `executed` or `failed`, with a line for people. The outcome
   * is written once: finishing again returns the first record with `recorded: false`.
   */
  finish(
    id: string,
    status: 'executed' | 'failed',
    outcome: string,
    at: Date,
  ): Promise<FinishedRequest>;
  /** Marks every pending approval past its expiry `expired`; returns the ones it marked. */
  expireDue(now: Date): Promise<ApprovalRequest[]>;
  /** Pending approvals and pending reviews, oldest first. */
  listOpen(): Promise<ApprovalRequest[]>;
  /**
   * Requests whose action was let run but whose outcome is not recorded yet, oldest first:
   * approvals `approved` and not finished, reviews with an execution and no outcome.
   */
  listUnfinished(): Promise<ApprovalRequest[]>;
  /** The most recent requests of any status, newest first. */
  listRecent(limit: number): Promise<ApprovalRequest[]>;
}
