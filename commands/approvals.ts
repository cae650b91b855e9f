import type { ApprovalRequest, RoleMap, VoteResult } from '../src/approvals/approval-request.ts';
import { approversOf } from '../src/approvals/rules.ts';
import { clausesSummary, refreshRequestMessage } from '../src/bot/approval-flow.ts';
import {
  type CommandContext,
  type CommandResult,
  defineCommand,
  succeeded,
} from '../src/bot/command.ts';
import { afterGateDecided, afterRequestDecided } from '../src/bot/runbook-flow.ts';
import { approvalsListMessage, voteAnswerMessage } from '../src/bot/views/approval-request.ts';
import { positional } from '../src/core/command-grammar.ts';
import { requestId, text } from './arguments.ts';
import { runAuthorizedRestore } from './restore.ts';

const request = positional({
  key: 'request',
  name: 'REQUEST-ID',
  required: true,
  description: 'The approval request (apr_…); `/approvals` lists the open ones.',
  schema: requestId,
  suggests: 'request',
});

export const approve = defineCommand({
  path: ['approve'],
  group: 'approvals',
  summary:
    'Approve a pending request, or acknowledge a break-glass review (the typed Approve button).',
  description:
    'The requester cannot approve their own request, and only holders of the roles the policy names count. The approval that completes a request runs its action at once, exactly once.',
  positionals: [request],
  flags: [],
  action: 'approve',
  gated: true,
  // The approved action runs as soon as enough people approved it.
  enqueues: true,
  examples: ['/approve apr_20261122T120000Z_7q3k9x'],
  handler: (ctx, args) => vote(ctx, args.request, 'approve', null),
});

export const reject = defineCommand({
  path: ['reject'],
  group: 'approvals',
  summary: 'Reject a pending request (the typed form of its Reject button); one rejection ends it.',
  positionals: [
    request,
    positional({
      key: 'reason',
      name: 'REASON',
      required: false,
      arity: 'rest',
      description: 'Why, in as many words as it takes.',
      schema: text,
    }),
  ],
  flags: [],
  action: 'reject',
  gated: true,
  enqueues: false,
  examples: ['/reject apr_7q3k wrong backup, use the one from 02:00'],
  handler: (ctx, args) => vote(ctx, args.request, 'reject', args.reason ?? null),
});

export const approvals = defineCommand({
  path: ['approvals'],
  group: 'approvals',
  summary: 'List the open requests you can approve, and break-glass reviews waiting for you.',
  positionals: [],
  flags: [],
  action: 'approvals.list',
  gated: false,
  enqueues: false,
  handler: async (ctx) => {
    const open = await ctx.services.approvals.open();
    const actionable = open.filter((r) => ctx.services.approvals.canAct(ctx.requestedBy, r));
    const waiting = open.filter((r) => r.requestedBy === ctx.requestedBy);
    await ctx.reply.post(
      approvalsListMessage(actionable, waiting, {
        now: ctx.now(),
        caller: ctx.requestedBy,
        roles: ctx.config.roles,
      }),
    );
    return {
      status: 'ok',
      requests: actionable.map((r) => summary(r, ctx.config.roles)),
      waiting: waiting.map((r) => summary(r, ctx.config.roles)),
    };
  },
});

export const approvalCommands = [approve, reject, approvals];

function summary(r: ApprovalRequest, roles: RoleMap) {
  return {
    id: r.id,
    kind: r.kind,
    action: r.action,
    command: r.command,
    requestedBy: r.requestedBy,
    approvals: approversOf(r),
    clauses: clausesSummary(r, roles),
    expiresAt: r.expiresAt?.toISOString() ?? null,
  };
}

/**
 * Casts the vote and answers the voter; updates the request message; and when this vote is the
 * one that completed the request (the repository hands that outcome to exactly one caller), runs
 * the stored action and records how it ended.
 */
async function vote(
  ctx: CommandContext,
  id: string,
  decision: 'approve' | 'reject',
  reason: string | null,
): Promise<CommandResult> {
  const result: VoteResult = await ctx.services.approvals.vote(
    id,
    { identity: ctx.requestedBy, decision, reason },
    { platform: ctx.identity.platform, channel: ctx.channel },
  );
  // A refused vote changes nothing: only the voter hears why. A counted one is news for all.
  const answer = voteAnswerMessage(result, ctx.config.roles);
  if (result.outcome === 'refused') await ctx.reply.postPrivately(answer);
  else await ctx.reply.post(answer);
  if (result.request) await refreshRequestMessage(ctx, result.request);
  if (result.outcome === 'refused') {
    ctx.logger.info(
      { request: id, identity: ctx.requestedBy, code: result.code },
      `${decision} refused`,
    );
    return { status: 'refused', id, request: id, code: result.code, error: result.reason };
  }
  const base = {
    id,
    request: id,
    outcome: result.outcome,
    approvals: approversOf(result.request).length,
    clauses: clausesSummary(result.request, ctx.config.roles),
  };
  if (result.outcome === 'rejected') {
    // A rejected runbook gate ends its run; a rejected step command fails its step.
    if (result.request.payload.type === 'runbook-gate') await afterGateDecided(ctx, result.request);
    else await afterRequestDecided(ctx, result.request, null);
  }
  if (result.outcome !== 'approved') return { status: 'ok', ...base };
  if (result.request.payload.type === 'runbook-gate') {
    return { ...(await afterGateDecided(ctx, result.request)), ...base };
  }
  const executed = await execute(ctx, result.request);
  // A runbook step waiting for this request goes on with its next command.
  await afterRequestDecided(ctx, result.request, executed);
  return { ...executed, ...base };
}

/** Runs an approved request's action under its execution id and records how it ended. */
async function execute(ctx: CommandContext, request: ApprovalRequest): Promise<CommandResult> {
  if (request.payload.type === 'restore') {
    return runAuthorizedRestore(ctx, request, {
      kind: 'approval',
      request: request.id,
      approvedBy: approversOf(request),
    });
  }
  const result = await ctx.runApproved(request);
  const done = succeeded(result);
  const line = `${request.command} ${done ? 'ran' : `ended ${result.status}`}${result.error ? `: ${String(result.error)}` : ''}.`;
  const ended = await ctx.services.approvals.finish(request, done ? 'executed' : 'failed', line);
  await refreshRequestMessage(ctx, ended);
  return { ...result, execution: request.executionId };
}
