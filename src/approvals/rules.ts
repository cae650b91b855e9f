import { hasRoles } from '../core/command-access.ts';
import { formatTimestamp } from '../core/format.ts';
import type {
  ApprovalClause,
  ApprovalRequest,
  CastVote,
  RoleMap,
  VoteRefusalCode,
} from './approval-request.ts';
import { clauseLabel, countedRoles, isApprover } from './policy.ts';

/** What a vote does to a request: it counts (and may decide it), or it is refused, saying why. */
export type VoteJudgement =
  | {
      readonly accept: true;
      /**
       * This vote decides the request: the approval that reaches the required count, any
       * rejection, or the acknowledgement of a review.
       */
      readonly completes: boolean;
    }
  | { readonly accept: false; readonly code: VoteRefusalCode; readonly reason: string };

export interface VoteContext {
  /** The moment of the vote: a request is expired from its `expiresAt` on. */
  readonly now: Date;
  readonly roles: RoleMap;
}

function refuse(code: VoteRefusalCode, reason: string): VoteJudgement {
  return { accept: false, code, reason };
}

/** The identities whose approvals the request already counts, in the order they voted. */
export function approversOf(request: ApprovalRequest): string[] {
  return [...new Set(request.votes.filter((v) => v.decision === 'approve').map((v) => v.identity))];
}

/** Whether a pending request is past its expiry at `now` (reviews never expire). */
export function isPastExpiry(request: ApprovalRequest, now: Date): boolean {
  return (
    request.status === 'pending' &&
    request.expiresAt !== null &&
    now.getTime() >= request.expiresAt.getTime()
  );
}

/** How far one clause of a request is: the approvers it counts, and how many more it needs. */
export interface ClauseStanding {
  readonly clause: ApprovalClause;
  /** The approvers (never the requester) whose approval counts for this clause. */
  readonly counted: readonly string[];
  /** Approvals it still needs; 0 when it is met. */
  readonly left: number;
}

/**
 * Each clause of the request with the approvals that count for it, by today's roles: an
 * approver counts for every clause whose roles they hold. With `also`, as if that identity had
 * approved too.
 */
export function standingOf(
  request: ApprovalRequest,
  roles: RoleMap,
  also?: string,
): ClauseStanding[] {
  const approvers = [...approversOf(request), ...(also === undefined ? [] : [also])].filter(
    (identity, index, all) => identity !== request.requestedBy && all.indexOf(identity) === index,
  );
  return request.requirement.clauses.map((clause) => {
    const counted = approvers.filter((identity) => isApprover(identity, clause, roles));
    return { clause, counted, left: Math.max(0, clause.approvals - counted.length) };
  });
}

/** Whether every clause is met. */
export function isMet(standing: readonly ClauseStanding[]): boolean {
  return standing.every((s) => s.left === 0);
}

/** `dba`, `dba or oncall`, `any role`, or `anyone but the requester` without roles. */
function fromWhom(clause: ApprovalClause, roles: RoleMap): string {
  if (!hasRoles(roles)) return 'anyone but the requester';
  return clause.approverRoles.length ? clause.approverRoles.join(' or ') : 'any role';
}

/**
 * What each clause still needs, for people: `production: 1 more from dba; staging: satisfied`.
 */
export function describeStanding(standing: readonly ClauseStanding[], roles: RoleMap): string {
  return standing
    .map(
      ({ clause, left }) =>
        `${clauseLabel(clause)}: ${left === 0 ? 'satisfied' : `${left} more from ${fromWhom(clause, roles)}`}`,
    )
    .join('; ');
}

/**
 * Who counts, for a refusal: `only holders of the dba role count: console:bob, slack:U012AB3CD`,
 * per clause still open when several policies apply, and what to do about it. The requester is
 * left out: they cannot approve anyway.
 */
function whoCounts(request: ApprovalRequest, roles: RoleMap): string {
  const configured = roles ?? {};
  const open = standingOf(request, roles).filter((s) => s.left > 0);
  const clauses = (open.length ? open : standingOf(request, roles)).map((s) => s.clause);
  const holders = (role: string) =>
    (configured[role] ?? []).filter((identity) => identity !== request.requestedBy);
  const nobody = clauses.every((clause) =>
    countedRoles(clause, roles).every((role) => holders(role).length === 0),
  );
  const ask = nobody
    ? 'Nobody else holds it yet: an admin can add people under roles in lifeboat.yaml.'
    : `Ask one of them to run /approve ${request.id}.`;
  const listed = (clause: ApprovalClause) =>
    countedRoles(clause, roles)
      .map((role) => `${role} (${holders(role).join(', ') || 'nobody else'})`)
      .join(', ');
  const [only] = clauses;
  if (clauses.length === 1 && only) {
    const named = only.approverRoles;
    if (named.length === 1 && named[0] !== undefined) {
      const people = holders(named[0]);
      return `only holders of the ${named[0]} role count${people.length ? `: ${people.join(', ')}` : ''}. ${ask}`;
    }
    const which = named.length ? `the ${named.join(' or ')} roles` : 'a role';
    return `only people who hold ${which} count: ${listed(only)}. ${ask}`;
  }
  const each = clauses.map((clause) => `${clauseLabel(clause)} needs ${listed(clause)}`);
  return `every policy that applies must be satisfied, and only holders of their roles count: ${each.join('; ')}. ${ask}`;
}

function endedRefusal(request: ApprovalRequest, vote: CastVote, now: Date): VoteJudgement | null {
  const { id } = request;
  const thing = request.kind === 'review' ? `review ${id}` : `request ${id}`;
  switch (request.status) {
    case 'rejected': {
      const why = request.reason ? `: "${request.reason}"` : '';
      const by =
        request.decidedBy === request.requestedBy
          ? `withdrawn by its requester ${request.decidedBy}`
          : `rejected by ${request.decidedBy ?? 'someone'}`;
      return refuse(
        'rejected',
        `${thing} was ${by}${why}, so nothing will run. If it is still needed, run the command again to ask for a new approval.`,
      );
    }
    case 'expired':
      return refuse('expired', expiredReason(request));
    case 'approved':
      return refuse(
        'already_approved',
        vote.decision === 'approve'
          ? `${thing} is already approved (by ${approversOf(request).join(', ')}) and runs as ${request.executionId}; your approval is not needed.`
          : `${thing} is already approved (by ${approversOf(request).join(', ')}) and runs as ${request.executionId}; it can no longer be rejected.`,
      );
    case 'executed':
    case 'failed':
      return refuse(
        'executed',
        `${thing} has already run as ${request.executionId}${request.outcome ? ` (${request.outcome.replace(/\.$/, '')})` : ''}; a request runs once. To do it again, run the command again to ask for a new approval.`,
      );
    case 'acknowledged':
      return refuse(
        'acknowledged',
        `${thing} was already acknowledged by ${request.decidedBy ?? 'someone'}; there is nothing left to do.`,
      );
    case 'pending':
      return isPastExpiry(request, now) ? refuse('expired', expiredReason(request)) : null;
  }
}

/** The refusal for a vote on a request that does not exist, for people. */
export function notFoundReason(id: string): string {
  return `There is no approval request ${id}; /approvals lists the open ones you can act on.`;
}

/** The refusal for a vote on an expired request, for people. */
export function expiredReason(request: ApprovalRequest): string {
  const when = request.expiresAt ? ` at ${formatTimestamp(request.expiresAt)}` : '';
  return `Request ${request.id} expired${when} before enough people approved it, so nothing ran. If it is still needed, run the command again to ask for a new approval.`;
}

/**
 * Whether a vote counts, by the rules that always hold (SPEC §5): an ended request takes no
 * votes; a review is acknowledged, never rejected; the requester never approves their own request
 * (the two-person rule) but may withdraw it by rejecting it; only approvers count, and each once;
 * one rejection ends a request; when several policies apply, every clause must be met (its count
 * from its roles), and an approval that helps no open clause is refused. Refusals come with a sentence for the person in chat that names
 * the request and what they can do instead. Pure: the repository applies it under a row lock.
 */
export function judgeVote(
  request: ApprovalRequest,
  vote: CastVote,
  context: VoteContext,
): VoteJudgement {
  const ended = endedRefusal(request, vote, context.now);
  if (ended) return ended;

  const { id } = request;
  if (request.kind === 'review' && vote.decision === 'reject') {
    return refuse(
      'wrong_kind',
      `review ${id} is for a break-glass action that has already run, so it cannot be rejected. Check what was done, then acknowledge it with /approve ${id}.`,
    );
  }

  const byRequester = vote.identity === request.requestedBy;
  if (byRequester && vote.decision === 'approve') {
    return refuse(
      'own_request',
      request.kind === 'review'
        ? `You broke the glass for ${id}; a second person must acknowledge it with /approve ${id}.`
        : `You asked for ${id}; a second person must approve it (the two-person rule). Ask someone who can approve to run /approve ${id}, or withdraw it with /reject ${id}.`,
    );
  }

  const clauses = request.requirement.clauses;
  if (!byRequester && !clauses.some((clause) => isApprover(vote.identity, clause, context.roles))) {
    return refuse(
      'not_an_approver',
      `Your vote on ${id} does not count: ${whoCounts(request, context.roles)}`,
    );
  }

  const standing = standingOf(request, context.roles);
  const previous = request.votes.find((v) => v.identity === vote.identity);
  if (previous) {
    return refuse(
      'already_voted',
      `You already ${previous.decision === 'approve' ? 'approved' : 'rejected'} ${id}, and each person counts once; it still needs: ${describeStanding(standing, context.roles)}.`,
    );
  }

  if (vote.decision === 'reject' || request.kind === 'review') {
    return { accept: true, completes: true };
  }
  const helps = standing.some(
    (s) => s.left > 0 && isApprover(vote.identity, s.clause, context.roles),
  );
  if (!helps) {
    // Every clause this person counts for is met already: their approval would change nothing,
    // and must never be mistaken for the approval a clause still waits for.
    return refuse(
      'not_needed',
      `Your approval of ${id} is not needed: what you count for is already satisfied, and it still needs ${describeStanding(standing, context.roles)}. ${whoCounts(request, context.roles)}`,
    );
  }
  return { accept: true, completes: isMet(standingOf(request, context.roles, vote.identity)) };
}
