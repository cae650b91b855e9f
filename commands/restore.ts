import type { ComponentProgress } from '../src/backup/progress.ts';
import { type CommandContext, type CommandResult, defineCommand } from '../src/bot/command.ts';
import { liveMessage } from '../src/bot/live-message.ts';
import type { RestoreOutcome, RestoreRequest } from '../src/bot/services.ts';
import { restorePlanMessage, restoreRefusedMessage } from '../src/bot/views/restore-plan.ts';
import {
  type RestoreRun,
  restoreEndedMessage,
  restoreLostMessage,
  restoreProgressMessage,
  restoreQueuedMessage,
} from '../src/bot/views/restore-run.ts';
import { flag } from '../src/core/command-grammar.ts';
import { describeForUser } from '../src/core/errors.ts';
import type { RestorePlan } from '../src/restore/plan-restore.ts';
import type { RestoreRecord } from '../src/restore/restore-record.ts';
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
      { dryRun: args.dryRun, breakGlass: args.breakGlass !== undefined },
    ),
});

export const restoreCommands = [restore];

/**
 * Plans the restore, then: with --dry-run shows the plan; a plan that needs approval is recorded
 * as refused (this version cannot collect approvals); any other is queued and followed to its
 * result with the checks against the manifest. `--break-glass` cannot skip anything yet: the
 * approval rules it would bypass are not in this version either, so it changes nothing.
 */
async function runRestore(
  ctx: CommandContext,
  request: RestoreRequest,
  options: { readonly dryRun: boolean; readonly breakGlass: boolean },
): Promise<CommandResult> {
  const planned = await ctx.services.restores.plan(request);
  const { plan } = planned;
  const refusal =
    planned.refusal !== null && options.breakGlass
      ? `${planned.refusal} --break-glass cannot skip the approval yet: this version has no break-glass role.`
      : planned.refusal;
  if (options.dryRun) {
    await ctx.reply.post(
      restorePlanMessage(plan, { now: ctx.now(), requestedBy: ctx.requestedBy, refusal }),
    );
    return {
      status: 'ok',
      dryRun: true,
      backup: plan.backupId,
      needsApproval: plan.needsApproval,
      components: planSummary(plan),
    };
  }
  if (refusal !== null) {
    const refused = await ctx.services.restores.refuse(plan, ctx.requestedBy, refusal);
    ctx.logger.info(
      { restoreId: refused.id, identity: ctx.requestedBy, backup: plan.backupId },
      'restore refused: a destination needs approval',
    );
    await ctx.reply.post(
      restoreRefusedMessage(plan, {
        now: ctx.now(),
        requestedBy: ctx.requestedBy,
        id: refused.id,
        reason: refusal,
      }),
    );
    return {
      status: 'refused',
      id: refused.id,
      backup: plan.backupId,
      error: refusal,
      components: planSummary(plan),
    };
  }

  const { restoreId: id } = await ctx.services.restores.enqueue(plan, ctx.requestedBy);
  const run: RestoreRun = { id, plan, requestedBy: ctx.requestedBy, now: ctx.now() };
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
    return { status: 'failed', id, backup: plan.backupId, error: message };
  }
  await live.finish(restoreEndedMessage(run, outcome.restore));
  return {
    status: outcome.status,
    id,
    backup: plan.backupId,
    ...(outcome.status === 'failed' ? { error: outcome.error } : {}),
    durationMs: outcome.restore.results?.durationMs ?? null,
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
    error: r.error,
    durationMs: r.durationMs,
    tools: r.tools,
    checks: r.checks,
  }));
}
