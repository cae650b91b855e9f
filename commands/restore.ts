import type { RestoreOutcome, RestoreRequest } from '../src/app/services.ts';
import type {
  ApprovalAction,
  ApprovalRequest,
  ApprovalRequirement,
} from '../src/approvals/approval-request.ts';
import { breakGlassRefusal } from '../src/approvals/break-glass.ts';
import { clauseLabel } from '../src/approvals/policy.ts';
import type { ComponentProgress } from '../src/backup/progress.ts';
import { askForApproval, refreshRequestMessage } from '../src/bot/approval-flow.ts';
import { type CommandContext, type CommandResult, defineCommand } from '../src/bot/command.ts';
import { liveMessage } from '../src/bot/live-message.ts';
import {
  approvalRequestMessage,
  breakGlassAlertMessage,
} from '../src/bot/views/approval-request.ts';
import { refusedMessage } from '../src/bot/views/notice.ts';
import { restoreCannotRunMessage, restorePlanMessage } from '../src/bot/views/restore-plan.ts';
import {
  type RestoreRun,
  restoreEndedMessage,
  restoreLostMessage,
  restoreOutcomeLine,
  restoreProgressMessage,
  restoreQueuedMessage,
} from '../src/bot/views/restore-run.ts';
import { textMessage } from '../src/chat/message.ts';
import { hasRoles } from '../src/core/command-access.ts';
import { flag } from '../src/core/command-grammar.ts';
import { describeForUser } from '../src/core/errors.ts';
import { formatSpan, plural } from '../src/core/format.ts';
import type { RestorePlan } from '../src/restore/plan-restore.ts';
import {
  blockingProblems,
  type RestoreCheckReport,
  type RestoreProblem,
} from '../src/restore/restore-checks.ts';
import type { RestoreAuthorization, RestoreRecord } from '../src/restore/restore-record.ts';
import { backupRefPositional, latestProfileFlag, name, text } from './arguments.ts';

export const restore = defineCommand({
  path: ['restore'],
  summary: 'Restore a backup into its origin or, with --into, into another target.',
  description:
    'A restore into a production target needs approval from a second person (the two-person rule) and takes a safety backup of the target first. Approval is judged on the destination.',
  positionals: [backupRefPositional],
  flags: [
    latestProfileFlag,
    flag.list({
      name: 'components',
      value: 'A,B',
      description: 'Restore only these components.',
      schema: name,
      refersTo: 'target',
    }),
    flag.map({
      name: 'into',
      value: 'COMPONENT=TARGET,...',
      description: 'Restore a component into another configured target instead of its origin.',
      schema: name,
      refersTo: 'target',
    }),
    flag.boolean('dry-run', 'Show the plan; change nothing.'),
    flag.string({
      name: 'break-glass',
      value: 'REASON',
      description:
        'Skip the second person in an emergency (one configured role only); alerts loudly and leaves a review to acknowledge.',
      schema: text,
    }),
  ],
  action: 'restore',
  gated: true,
  enqueues: true,
  examples: [
    '/restore latest --profile db',
    '/restore bk_20261122T020000Z_full_7q3k --components app-db --into app-db=staging-db',
  ],
  handler: (ctx, args) =>
    runRestore(
      ctx,
      {
        backup: args.backup,
        ...(args.profile ? { profile: args.profile } : {}),
        ...(args.components ? { components: args.components } : {}),
        ...(args.into ? { into: args.into } : {}),
        requestedBy: ctx.requestedBy,
      },
      { dryRun: args.dryRun, breakGlass: args.breakGlass },
    ),
});

export const restoreCommands = [restore];

/**
 * Plans the restore (with `latest` resolved to a backup id), then: with --dry-run shows the plan
 * and what approval it would need; a plan whose destinations need a second person becomes an
 * approval request that stores the plan (or, with --break-glass from the configured role, runs
 * at once and leaves a review); any other is queued and followed to its result.
 */
async function runRestore(
  ctx: CommandContext,
  request: RestoreRequest,
  options: { readonly dryRun: boolean; readonly breakGlass: string | undefined },
): Promise<CommandResult> {
  const { plan, check } = await ctx.services.restores.plan(request);
  const problems = blockingProblems(check);
  const environments = [...new Set(plan.components.map((c) => c.environment))];
  const requirement = ctx.services.approvals.requirement('restore', environments);
  if (options.dryRun) {
    await ctx.reply.post(
      restorePlanMessage(plan, {
        now: ctx.now(),
        requestedBy: ctx.requestedBy,
        approval: requirement ? describeRequirement(requirement, ctx) : null,
        check,
        command: ctx.text,
      }),
    );
    return {
      // What the same command without --dry-run would get.
      status: problems.length > 0 ? 'refused' : 'ok',
      ...(problems.length > 0 ? { error: problemsError(problems), problems } : {}),
      checks: checkSummary(check),
      dryRun: true,
      backup: plan.backupId,
      needsApproval: requirement !== null,
      ...(requirement
        ? {
            approval: {
              clauses: requirement.clauses,
              expiresInMs: requirement.expiresInMs,
            },
          }
        : {}),
      components: planSummary(plan),
    };
  }
  if (problems.length > 0) {
    // Never ask a second person to approve, nor queue, a restore that could never run. Nothing
    // happened, so only the requester hears why.
    await ctx.reply.postPrivately(restoreCannotRunMessage(plan, problems));
    return {
      status: 'refused',
      code: 'restore_cannot_run',
      backup: plan.backupId,
      error: problemsError(problems),
      problems,
      checks: checkSummary(check),
    };
  }
  // Not checked where restores run (no worker answered): asked for all the same, with the
  // warning on the request. The worker refuses, before it changes any destination, a restore
  // that cannot run, so an approval costs nothing but the approver's time; refusing here would
  // block every restore whenever the workers are busy, restarting or cut off from Redis,
  // which is when an incident needs one.
  const payload = {
    type: 'restore' as const,
    plan,
    ...(check.ran ? {} : { unchecked: { why: check.why, seenHere: check.seenHere } }),
  };
  if (requirement && options.breakGlass !== undefined) {
    return breakGlassRestore(ctx, payload, environments, options.breakGlass);
  }
  if (requirement) {
    const result = await askForApproval(ctx, {
      action: 'restore',
      payload,
      environments,
      requirement,
      command: ctx.text,
    });
    return {
      ...result,
      backup: plan.backupId,
      components: planSummary(plan),
      checks: checkSummary(check),
    };
  }
  if (options.breakGlass !== undefined) {
    await ctx.reply.postPrivately(
      textMessage(
        'Nothing in this restore needs approval, so --break-glass skips nothing: it runs as an ordinary restore.',
      ),
    );
  }
  const { restoreId } = await ctx.services.restores.enqueue(plan, ctx.requestedBy);
  await ctx.onStarted?.(restoreId);
  return followRestore(ctx, { id: restoreId, plan, requestedBy: ctx.requestedBy });
}

/** How the restore was checked, for `--json`: where, or why not and what was seen here. */
function checkSummary(check: RestoreCheckReport) {
  return check.ran
    ? { ran: true, where: check.where }
    : { ran: false, why: check.why, seenHere: check.seenHere };
}

/** The problems in one line, for `--json` and the audit log. */
function problemsError(problems: readonly RestoreProblem[]): string {
  return `this restore would fail: ${problems.map((p) => p.message).join('; ')}`;
}

/**
 * `1 approver from dba, within 30 min (policies[0])`; with several policies, each clause for its
 * environments: `production: 1 approver from dba (policies[0]); staging: 1 approver from oncall
 * (policies[1]); every one of them, within 15 min`.
 */
function describeRequirement(requirement: ApprovalRequirement, ctx: CommandContext): string {
  const { clauses } = requirement;
  const each = clauses.map((clause) => {
    const roles = clause.approverRoles.length
      ? `from ${clause.approverRoles.join(' or ')}`
      : hasRoles(ctx.config.roles)
        ? 'from any role'
        : 'from anyone but the requester';
    const which = clause.policy === 'default' ? 'the built-in rule for production' : clause.policy;
    return { clause, text: `${plural(clause.approvals, 'approver')} ${roles}`, which };
  });
  const within = `within ${formatSpan(requirement.expiresInMs)}`;
  const [only] = each;
  if (each.length === 1 && only) return `${only.text}, ${within} (${only.which})`;
  const all = each.map((e) => `${clauseLabel(e.clause)}: ${e.text} (${e.which})`).join('; ');
  return `${all}; every one of them, ${within}`;
}

/**
 * `--break-glass REASON`: for holders of the configured role only. Runs at once, without the
 * second person, but never quietly: a loud alert in the alerts channel, a review that stays in
 * `/approvals` until a second person acknowledges it, and the safety backup still comes first.
 */
async function breakGlassRestore(
  ctx: CommandContext,
  payload: Extract<ApprovalAction, { type: 'restore' }>,
  environments: readonly string[],
  reason: string,
): Promise<CommandResult> {
  const { plan } = payload;
  // The service enforces the same rule; judged here first for the person's answer.
  const refusal = breakGlassRefusal(ctx.config, ctx.requestedBy, reason);
  if (refusal !== null) {
    await ctx.reply.postPrivately(refusedMessage(refusal.message));
    return {
      status: 'refused',
      backup: plan.backupId,
      error: refusal.message,
      code: refusal.code,
    };
  }

  const review = await ctx.services.approvals.breakGlass({
    action: 'restore',
    command: ctx.text,
    payload,
    environments,
    requestedBy: ctx.requestedBy,
    from: { platform: ctx.identity.platform, channel: ctx.channel },
    reason,
  });
  const view = { now: ctx.now(), roles: ctx.config.roles };
  ctx.logger.warn(
    { alert: 'break_glass', request: review.id, identity: ctx.requestedBy, reason },
    'break glass: a restore runs without a second person',
  );
  await ctx.alert(breakGlassAlertMessage(review, view));
  const ref = await ctx.reply.post(approvalRequestMessage(review, view));
  await ctx.services.approvals.attachMessage(review.id, ref);

  const result = await runAuthorizedRestore(ctx, review, {
    kind: 'break-glass',
    request: review.id,
    by: ctx.requestedBy,
    reason,
  });
  return { ...result, request: review.id, breakGlass: true };
}

/**
 * Queues the restore a request let run (approved, or break glass) under the request's execution
 * id, follows it, and records on the request how it ended. A bot that loses track of it records
 * nothing: the approval sweeper records the outcome once the restore ends.
 */
export async function runAuthorizedRestore(
  ctx: CommandContext,
  request: ApprovalRequest,
  authorization: RestoreAuthorization,
): Promise<CommandResult> {
  if (request.payload.type !== 'restore' || !request.executionId) {
    throw new Error(`approval request ${request.id} does not hold a restore to run`);
  }
  const { plan } = request.payload;
  const id = request.executionId;
  await ctx.services.restores.enqueue(plan, request.requestedBy, { id, authorization });
  const result = await followRestore(ctx, { id, plan, requestedBy: request.requestedBy });
  if (result.lost) return { ...result, execution: id };
  const ended = await ctx.services.approvals.finish(
    request,
    result.status === 'completed' ? 'executed' : 'failed',
    restoreOutcomeLine(id, result),
  );
  await refreshRequestMessage(ctx, ended);
  return { ...result, execution: id };
}

/** Follows a queued restore in one live message to its end; the command's result. */
export async function followRestore(
  ctx: CommandContext,
  queued: { readonly id: string; readonly plan: RestorePlan; readonly requestedBy: string },
): Promise<CommandResult> {
  const { id, plan } = queued;
  const run: RestoreRun = { id, plan, requestedBy: queued.requestedBy, now: ctx.now() };
  const ref = await ctx.reply.post(restoreQueuedMessage(run));
  const live = liveMessage(ctx.reply, ref, {
    intervalMs: ctx.progressIntervalMs,
    onError: (error) => ctx.logger.warn({ err: error, restoreId: id }, 'progress update failed'),
  });
  let outcome: RestoreOutcome;
  try {
    outcome = await ctx.services.restores.follow(id, (progress: readonly ComponentProgress[]) =>
      live.progress(restoreProgressMessage(run, progress)),
    );
  } catch (error) {
    ctx.logger.error({ err: error, restoreId: id }, 'lost track of a restore');
    const message = describeForUser(error, id);
    await live.finish(restoreLostMessage(run, message));
    // The restore itself may still be running: nobody here knows how it ends (`lost`).
    return { status: 'failed', id, backup: plan.backupId, error: message, lost: true };
  }
  await live.finish(restoreEndedMessage(run, outcome.restore));
  return {
    status: outcome.status,
    id,
    backup: plan.backupId,
    ...(outcome.status === 'failed' ? { error: outcome.error } : {}),
    durationMs: outcome.restore.results?.durationMs ?? null,
    safetyBackup: outcome.restore.safetyBackupId ?? null,
    components: resultSummary(outcome.restore),
  };
}

function planSummary(plan: RestorePlan) {
  return plan.components.map((c) => ({
    component: c.component,
    kind: c.kind,
    destination: c.destination,
    environment: c.environment,
    needsApproval: c.needsApproval,
    bytes: c.bytes,
    rawBytes: c.rawBytes,
    actions: c.actions,
  }));
}

function resultSummary(restore: RestoreRecord) {
  return (restore.results?.components ?? []).map((r) => ({
    component: r.component,
    destination: r.destination,
    status: r.status,
    ok: r.ok,
    // validated | unchanged | unknown: what the destination holds now.
    destinationState: r.destinationState ?? null,
    error: r.error,
    durationMs: r.durationMs,
    tools: r.tools,
    checks: r.checks,
  }));
}
