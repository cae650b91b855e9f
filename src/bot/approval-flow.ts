import type {
  ApprovalAction,
  ApprovalRequest,
  ApprovalRequirement,
  RoleMap,
} from '../approvals/approval-request.ts';
import { standingOf } from '../approvals/rules.ts';
import type { CommandContext, CommandResult } from './command.ts';
import { approvalRequestMessage } from './views/approval-request.ts';

/** What a command hands over when its action needs a second person. */
export interface ApprovalNeed {
  readonly action: string;
  readonly payload: ApprovalAction;
  readonly environments: readonly string[];
  readonly requirement: ApprovalRequirement;
  /** The command as typed, shown on the request. */
  readonly command: string;
}

/**
 * Records an approval request for the action, posts the request message (with Approve and
 * Reject buttons, which carry only the request id) and remembers where it is, so votes and
 * expiry update it. The command ends `awaiting_approval`; the approval that completes the
 * request runs the stored action.
 */
export async function askForApproval(
  ctx: CommandContext,
  need: ApprovalNeed,
): Promise<CommandResult> {
  const request = await ctx.services.approvals.request({
    ...need,
    requestedBy: ctx.requestedBy,
    from: { platform: ctx.identity.platform, channel: ctx.channel },
  });
  const ref = await ctx.reply.post(
    approvalRequestMessage(request, { now: ctx.now(), roles: ctx.config.roles }),
  );
  await ctx.services.approvals.attachMessage(request.id, ref);
  ctx.logger.info(
    { request: request.id, identity: ctx.requestedBy, action: need.action },
    'approval requested',
  );
  return {
    status: 'awaiting_approval',
    id: request.id,
    request: request.id,
    action: need.action,
    clauses: clausesSummary(request, ctx.config.roles),
    expiresAt: request.expiresAt?.toISOString() ?? null,
  };
}

/**
 * Shows the request's current state in its message. A request posted on another platform
 * cannot be updated from this one; the person acting there still gets their own answer.
 */
export async function refreshRequestMessage(
  ctx: CommandContext,
  request: ApprovalRequest,
): Promise<void> {
  if (!request.message || request.platform !== ctx.identity.platform) return;
  try {
    await ctx.reply.update(
      request.message,
      approvalRequestMessage(request, { now: ctx.now(), roles: ctx.config.roles }),
    );
  } catch (error) {
    ctx.logger.warn({ err: error, request: request.id }, 'could not update the request message');
  }
}

/**
 * Each clause of a request for `--json`: what it covers, what it asks, by which policy, and how
 * many approvals it still needs.
 */
export function clausesSummary(request: ApprovalRequest, roles: RoleMap) {
  return standingOf(request, roles).map(({ clause, counted, left }) => ({
    environments: clause.environments,
    approvals: clause.approvals,
    approverRoles: clause.approverRoles,
    policy: clause.policy,
    approvedBy: counted,
    left,
  }));
}
