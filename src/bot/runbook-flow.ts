import { createHash } from 'node:crypto';
import type { ApprovalRequest } from '../approvals/approval-request.ts';
import type { ChatMessage } from '../chat/message.ts';
import { newRunId } from '../core/ids.ts';
import { fillCommand } from '../runbook/fill-command.ts';
import type { Runbook } from '../runbook/model.ts';
import type { RunbookRun, RunbookRunRepository } from '../runbook/run-record.ts';
import {
  type CommandOutcome,
  commandsOf,
  decide,
  gateOf,
  initialState,
  type RunInput,
} from '../runbook/run-state.ts';
import { runSummaryMarkdown } from '../runbook/run-summary.ts';
import { refreshRequestMessage } from './approval-flow.ts';
import { type CommandContext, type CommandResult, succeeded } from './command.ts';
import { approvalRequestMessage } from './views/approval-request.ts';
import { invalidInputMessage, refusedMessage } from './views/notice.ts';
import { runEndedMessage, runIntroMessage, stepMessage } from './views/runbook-run.ts';

/**
 * Runbook runs as the commands drive them: each input is decided by the pure state machine and
 * applied only if the run is still at the version it was decided on; then the run's thread
 * shows the new step, its gate is opened, or its summary is posted.
 */

/**
 * What moving a run needs: the services, where to post, and the clock. A command's context is
 * one; the WAIT sweep builds one per platform.
 */
export type FlowContext = Pick<
  CommandContext,
  'services' | 'config' | 'reply' | 'identity' | 'now'
>;

/** Who the engine acts as when no person does (a WAIT that ended, a gate that passed). */
const ENGINE = 'system:lifeboat';

/** How long a gate's approval request stays open. */
const GATE_EXPIRY_MS = 24 * 60 * 60_000;

/** The run's command with its parameters filled, or the template when it cannot be filled. */
function filler(run: RunbookRun): (command: string) => string {
  return (command) => {
    const filled = fillCommand(command, run.params);
    return filled.ok ? filled.text : command;
  };
}

/** Posts into the run's thread when this platform can, else where the command came from. */
async function postToRun(ctx: FlowContext, run: RunbookRun, message: ChatMessage) {
  if (run.home && run.platform === ctx.identity.platform && ctx.reply.postTo) {
    return ctx.reply.postTo(run.home, message);
  }
  return ctx.reply.post(message);
}

async function refuse(
  ctx: CommandContext,
  id: string,
  reason: string,
  code = 'refused',
): Promise<CommandResult> {
  await ctx.reply.postPrivately(refusedMessage(reason));
  return { status: 'refused', id, code, error: reason };
}

/** The run `id`, or the private answer saying there is none. */
async function findRun(ctx: CommandContext, id: string): Promise<RunbookRun | CommandResult> {
  const run = await ctx.services.runbooks.runs.get(id);
  if (run) return run;
  const error = `There is no runbook run \`${id}\`. \`/runbook status\` lists the open ones.`;
  await ctx.reply.postPrivately(invalidInputMessage(error));
  return { status: 'invalid', id, error };
}

function isRun(value: RunbookRun | CommandResult): value is RunbookRun {
  return 'runbook' in value && 'state' in value;
}

/**
 * Applies `input` to the run as it is now, if it still is when written. Undefined when the
 * state machine refuses it or another transition came first; `reason` says which.
 */
async function apply(
  ctx: FlowContext,
  run: RunbookRun,
  input: RunInput,
  actor: string,
): Promise<{ run?: RunbookRun; reason?: string; conflict?: boolean }> {
  const now = ctx.now();
  const d = decide(run.runbook, run.status, run.state, input, now);
  if (!d.ok) return { reason: d.reason };
  const moved = await ctx.services.runbooks.runs.transition(run.id, run.version, d, {
    ...d.event,
    actor,
    at: now,
  });
  if (!moved) {
    return {
      conflict: true,
      reason: `Run ${run.id} changed at the same moment (someone else acted on it); nothing was done. \`/runbook status ${run.id}\` shows where it stands.`,
    };
  }
  return { run: moved };
}

/**
 * Brings a run up to date with what happened while nobody looked: a WAIT that is over, a gate
 * whose request was decided (the bot that counted the vote may have stopped before moving the
 * run). Each is a conditional transition, so catching up twice changes nothing twice.
 */
export async function catchUp(ctx: FlowContext, run: RunbookRun): Promise<RunbookRun> {
  let current = run;
  for (let i = 0; i < current.runbook.steps.length + 1 && current.status === 'open'; i++) {
    const phase = current.state.phase;
    let input: RunInput | undefined;
    if (phase.kind === 'waiting' && Date.parse(phase.until) <= ctx.now().getTime()) {
      input = { kind: 'wait-elapsed' };
    } else if (phase.kind === 'gate' && phase.request) {
      const request = await ctx.services.approvals.get(phase.request);
      if (request && request.status !== 'pending') input = gateInput(request);
    }
    if (!input) break;
    const moved = await apply(ctx, current, input, ENGINE);
    const fresh = moved.run ?? (await ctx.services.runbooks.runs.get(current.id));
    if (!fresh || fresh.version === current.version) break;
    current = await show(ctx, fresh);
  }
  return current;
}

/** What a decided gate request does to its run. */
function gateInput(request: ApprovalRequest): RunInput {
  const approved = ['approved', 'executed'].includes(request.status);
  const by = request.decidedBy ?? 'nobody';
  return {
    kind: 'gate-decided',
    request: request.id,
    approved,
    detail: approved
      ? `${request.id} approved (last approval by ${by})`
      : `${request.id} ${request.status}${request.reason ? `: ${request.reason}` : ''}${request.status === 'rejected' ? ` (by ${by})` : ''}`,
  };
}

/**
 * Shows the run as it now stands: opens the current step's gate if it has not been, posts the
 * step, or, once it ended, posts and keeps its summary.
 */
async function show(ctx: FlowContext, run: RunbookRun): Promise<RunbookRun> {
  if (run.status !== 'open') {
    const timeline = await ctx.services.runbooks.runs.timeline(run.id);
    await ctx.services.runbooks.runs.setSummary(run.id, runSummaryMarkdown(run, timeline));
    await postToRun(ctx, run, runEndedMessage(run, timeline));
    return run;
  }
  let current = run;
  if (current.state.phase.kind === 'gate' && current.state.phase.request === null) {
    current = await openGate(ctx, current);
  }
  const message = stepMessage(current, ctx.now(), filler(current));
  const shown = current.stepMessage;
  // The step's own message is updated as people act on it; a new step gets a new message.
  if (shown && shown.step === current.state.step && current.platform === ctx.identity.platform) {
    try {
      await ctx.reply.update(shown.ref, message);
      return current;
    } catch {
      // Gone or not ours to edit (another bot's session): post it anew below.
    }
  }
  const ref = await postToRun(ctx, current, message);
  await ctx.services.runbooks.runs.setStepMessage(current.id, current.state.step, ref);
  return { ...current, stepMessage: { step: current.state.step, ref } };
}

/**
 * Opens the current step's gate as an approval request by the person who started the run, so
 * that it needs that many people besides them, from the gate's roles.
 */
async function openGate(ctx: FlowContext, run: RunbookRun): Promise<RunbookRun> {
  const step = run.runbook.steps[run.state.step];
  const gate = step ? gateOf(step) : undefined;
  if (!step || gate?.kind !== 'gate') return run;
  const request = await ctx.services.approvals.request({
    action: 'runbook.gate',
    command: `/runbook status ${run.id} (step ${step.number}: ${step.title})`,
    payload: { type: 'runbook-gate', run: run.id, step: step.number, title: step.title },
    environments: [],
    requirement: {
      clauses: [
        {
          environments: [],
          approvals: gate.approvals,
          approverRoles: [...gate.roles],
          policy: `runbook ${run.runbookName} step ${step.number}`,
        },
      ],
      expiresInMs: GATE_EXPIRY_MS,
    },
    requestedBy: run.startedBy,
    from: { platform: run.platform, channel: run.home ?? run.channel },
  });
  const opened = await apply(ctx, run, { kind: 'gate-opened', request: request.id }, ENGINE);
  if (!opened.run) {
    // Another process opened the gate first; this request is left unanswered and expires.
    return (await ctx.services.runbooks.runs.get(run.id)) ?? run;
  }
  const ref = await postToRun(
    ctx,
    opened.run,
    approvalRequestMessage(request, { now: ctx.now(), roles: ctx.config.roles }),
  );
  await ctx.services.approvals.attachMessage(request.id, ref);
  return opened.run;
}

/** The values a run starts with, or the one message naming every problem. */
export function runParams(
  runbook: Runbook,
  given: readonly { key: string; value: string }[],
): { ok: true; params: Record<string, string> } | { ok: false; error: string } {
  const declared = new Map(runbook.params.map((p) => [p.name, p]));
  const valid = runbook.params.length
    ? `Its parameters: ${runbook.params.map((p) => `${p.name} (${p.description})`).join('; ')}.`
    : 'It takes no parameters.';
  const unknown = given.filter((g) => !declared.has(g.key)).map((g) => g.key);
  if (unknown.length) {
    return {
      ok: false,
      error: `Runbook ${runbook.name} has no parameter ${unknown.map((k) => `\`${k}\``).join(', ')}. ${valid}`,
    };
  }
  const params: Record<string, string> = {};
  for (const p of runbook.params) if (p.default !== undefined) params[p.name] = p.default;
  for (const g of given) params[g.key] = g.value;
  const missing = runbook.params.filter((p) => params[p.name] === undefined);
  if (missing.length) {
    return {
      ok: false,
      error: `Runbook ${runbook.name} needs ${missing.map((p) => `\`${p.name}=…\` (${p.description})`).join(', ')}: \`/runbook start ${runbook.name} ${missing.map((p) => `${p.name}=VALUE`).join(' ')}\`.`,
    };
  }
  for (const p of runbook.params) {
    const value = params[p.name] ?? '';
    if (p.type.kind === 'choice' && !p.type.values.includes(value)) {
      return {
        ok: false,
        error: `\`${p.name}\` must be one of ${p.type.values.join(', ')}; \`${value}\` is not.`,
      };
    }
  }
  return { ok: true, params };
}

/** `/runbook start NAME [KEY=VALUE…]`: records the run, opens its thread, shows its first step. */
export async function startRun(
  ctx: CommandContext,
  name: string,
  given: readonly { key: string; value: string }[],
): Promise<CommandResult> {
  const { library, runs } = ctx.services.runbooks;
  const runbook = await library.load(name);
  if (!runbook) {
    const names = (await library.list()).map((r) => r.name);
    const error = `There is no runbook \`${name}\`. ${names.length ? `Runbooks: ${names.join(', ')}.` : 'No runbooks are installed.'}`;
    await ctx.reply.postPrivately(invalidInputMessage(error));
    return { status: 'invalid', error };
  }
  const errors = runbook.findings.filter((f) => f.severity === 'error');
  if (errors.length) {
    const error = `Runbook ${name} cannot start: ${errors.map((f) => `${f.file}:${f.line}: ${f.message}`).join('; ')}.`;
    await ctx.reply.postPrivately(invalidInputMessage(error));
    return { status: 'invalid', error };
  }
  // Without a `roles` key everyone may do everything (a trial); with one, the runbook's roles.
  if (runbook.roles.length && ctx.config.roles !== undefined) {
    const mine = Object.entries(ctx.config.roles ?? {})
      .filter(([, members]) => members.includes(ctx.requestedBy))
      .map(([role]) => role);
    if (!runbook.roles.some((r) => mine.includes(r))) {
      return refuse(
        ctx,
        name,
        `Runbook ${name} may be started by holders of ${runbook.roles.join(', ')}; you hold ${mine.length ? mine.join(', ') : 'no role'}.`,
      );
    }
  }
  const values = runParams(runbook, given);
  if (!values.ok) {
    await ctx.reply.postPrivately(invalidInputMessage(values.error));
    return { status: 'invalid', error: values.error };
  }
  const now = ctx.now();
  const first = initialState(runbook, now);
  let run = await runs.create(
    {
      id: newRunId(now),
      runbookName: runbook.name,
      runbook,
      contentHash: createHash('sha256').update(JSON.stringify(runbook)).digest('hex'),
      params: values.params,
      startedBy: ctx.requestedBy,
      platform: ctx.identity.platform,
      channel: ctx.channel,
      ...first,
      startedAt: now,
    },
    {
      kind: 'started',
      step: null,
      detail: `started ${runbook.name}${
        Object.keys(values.params).length
          ? ` with ${Object.entries(values.params)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`
          : ''
      }`,
    },
  );
  const intro = await ctx.reply.post(runIntroMessage(run));
  const home = ctx.reply.startThread
    ? await ctx.reply.startThread(intro, `${runbook.title} (${run.id})`)
    : ctx.channel;
  await runs.setThread(run.id, intro, home);
  run = { ...run, thread: intro, home, stepMessage: null };
  run = await show(ctx, run);
  return { status: 'ok', id: run.id, run: run.id, runbook: runbook.name, step: run.state.step + 1 };
}

/**
 * The run `id`, caught up with its due waits, when a click meant for step `expectedStep` (a
 * button's `--step N`) still applies to it; otherwise the refusal that says nothing was `what`.
 */
async function runAtStep(
  ctx: CommandContext,
  id: string,
  expectedStep: number | undefined,
  what: 'done' | 'run',
): Promise<RunbookRun | CommandResult> {
  const found = await findRun(ctx, id);
  if (!isRun(found)) return found;
  const run = await catchUp(ctx, found);
  if (expectedStep !== undefined && run.status === 'open' && run.state.step + 1 !== expectedStep) {
    return refuse(
      ctx,
      id,
      `Step ${expectedStep} is no longer the current step of ${id} (it is at step ${run.state.step + 1}); nothing was ${what}.`,
      'step_moved_on',
    );
  }
  return run;
}

/**
 * A person's Check, Done, Skip or Abort. `expectedStep` (a button's `--step N`) refuses a click
 * meant for a step the run has left: a double click never finishes the next step too.
 */
export async function actOnRun(
  ctx: CommandContext,
  id: string,
  input: RunInput,
  expectedStep: number | undefined,
): Promise<CommandResult> {
  const run = await runAtStep(ctx, id, expectedStep, 'done');
  if (!isRun(run)) return run;
  const result = await apply(ctx, run, input, ctx.requestedBy);
  if (!result.run) {
    return refuse(
      ctx,
      id,
      result.reason ?? 'Nothing was done.',
      result.conflict ? 'conflict' : 'refused',
    );
  }
  const shown = await show(ctx, result.run);
  return { status: 'ok', id, run: id, runStatus: shown.status, step: shown.state.step + 1 };
}

/**
 * Run (or Retry): claims the step's attempt in the catalog first (a conditional transition, so
 * a double click, a second replica or a restart re-deciding cannot claim it twice), then runs
 * each command through the dispatcher as the person who pressed Run, records what each
 * produced, and advances on success or offers Retry / Skip / Abort on failure. A command that
 * turns into an approval request leaves the step running until that request is decided.
 */
export async function runStep(
  ctx: CommandContext,
  id: string,
  expectedStep: number | undefined,
): Promise<CommandResult> {
  const claimed = await actOnRunClaim(ctx, id, expectedStep);
  if (!isRun(claimed)) return claimed;
  return runCommands(ctx, claimed, ctx.requestedBy);
}

async function actOnRunClaim(
  ctx: CommandContext,
  id: string,
  expectedStep: number | undefined,
): Promise<RunbookRun | CommandResult> {
  const run = await runAtStep(ctx, id, expectedStep, 'run');
  if (!isRun(run)) return run;
  if (run.status === 'open' && run.state.phase.kind === 'running') {
    const resumed = await resumeRun(ctx, run);
    if (!isRun(resumed)) return resumed;
    return {
      status: resumed.status === 'open' && resumed.state.phase.kind === 'failed' ? 'failed' : 'ok',
      id,
      run: id,
      resumed: true,
      step: resumed.state.step + 1,
    };
  }
  const claimed = await apply(ctx, run, { kind: 'run', by: ctx.requestedBy }, ctx.requestedBy);
  if (!claimed.run) {
    return refuse(
      ctx,
      id,
      claimed.reason ?? 'Nothing was run.',
      claimed.conflict ? 'conflict' : 'refused',
    );
  }
  return show(ctx, claimed.run);
}

/** Runs the claimed attempt's commands not run yet, in order, as `as`. */
async function runCommands(
  ctx: CommandContext,
  claimed: RunbookRun,
  as: string,
): Promise<CommandResult> {
  let run = claimed;
  const phase = run.state.phase;
  const step = run.runbook.steps[run.state.step];
  if (phase.kind !== 'running' || !step) return { status: 'ok', id: run.id };
  const attempt = phase.attempt;
  const commands = commandsOf(step);
  let error: string | undefined;
  for (const template of commands.slice(phase.outcomes.length)) {
    const filled = fillCommand(template, run.params);
    let outcome: CommandOutcome;
    if (!filled.ok) outcome = { command: template, status: 'invalid', error: filled.error };
    else {
      // Claimed before it is dispatched: of two processes, only one runs it.
      const claim = await apply(
        ctx,
        run,
        { kind: 'command-started', attempt, command: filled.text },
        as,
      );
      if (!claim.run) return refuse(ctx, run.id, claim.reason ?? 'The run moved on.');
      run = claim.run;
      const result = await ctx.runAs(filled.text, as, async (id) => {
        const job = await apply(ctx, run, { kind: 'command-job', attempt, id }, as);
        if (job.run) run = job.run;
      });
      outcome = commandOutcome(filled.text, result);
    }
    const recorded = await apply(ctx, run, { kind: 'command-ended', attempt, outcome }, as);
    if (!recorded.run) return refuse(ctx, run.id, recorded.reason ?? 'The run moved on.');
    run = recorded.run;
    if (outcome.status === 'awaiting_approval') {
      // The step goes on when the request is decided (see `afterApprovedCommand`).
      return { status: 'awaiting_approval', id: run.id, run: run.id, request: outcome.id };
    }
    if (outcome.status !== 'completed' && outcome.status !== 'ok' && outcome.status !== 'passed') {
      error = `${outcome.command} ended ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`;
      break;
    }
  }
  const ended = await apply(
    ctx,
    run,
    { kind: 'commands-ended', attempt, ...(error !== undefined ? { error } : {}) },
    as,
  );
  if (!ended.run) return refuse(ctx, run.id, ended.reason ?? 'The run moved on.');
  const shown = await show(ctx, ended.run);
  return {
    status: error === undefined ? 'completed' : 'failed',
    id: run.id,
    run: run.id,
    step: shown.state.step + 1,
    ...(error !== undefined ? { error } : {}),
  };
}

/** The open run whose running step waits for approval request `requestId`, if any. */
async function runWaitingFor(ctx: CommandContext, requestId: string) {
  for (const run of await ctx.services.runbooks.runs.listOpen()) {
    const phase = run.state.phase;
    if (phase.kind === 'running' && phase.outcomes.at(-1)?.id === requestId) return run;
  }
  return undefined;
}

/**
 * After an approved command of a runbook step ran (or its request was rejected or expired):
 * records its outcome in the run and goes on with the step's other commands, as the person who
 * pressed Run.
 */
/** How a step's command ended, for its timeline: its status, the id it made, its error. */
export function commandOutcome(command: string, result: CommandResult): CommandOutcome {
  return {
    command,
    status: result.status,
    ...(typeof result.id === 'string' ? { id: result.id } : {}),
    ...errorOf(result),
  };
}

/** A result's error, when it has one (a result may say `error: null`). */
function errorOf(result: CommandResult | null): { error?: string } {
  const error = result?.error;
  return error === undefined || error === null || error === '' ? {} : { error: String(error) };
}

export async function afterRequestDecided(
  ctx: CommandContext,
  request: ApprovalRequest,
  result: CommandResult | null,
): Promise<void> {
  const run = await runWaitingFor(ctx, request.id);
  if (run?.state.phase.kind !== 'running') return;
  const { attempt, by } = run.state.phase;
  const outcome: CommandOutcome = {
    command: request.command,
    status: result ? result.status : request.status,
    ...(result && typeof result.id === 'string' && result.id !== request.id
      ? { id: result.id }
      : {}),
    ...errorOf(result),
  };
  const recorded = await apply(ctx, run, { kind: 'command-ended', attempt, outcome }, ENGINE);
  if (!recorded.run) return;
  if (!result || !succeeded(result)) {
    const ended = await apply(
      ctx,
      recorded.run,
      { kind: 'commands-ended', attempt, error: `${request.command} ended ${outcome.status}` },
      ENGINE,
    );
    if (ended.run) await show(ctx, ended.run);
    return;
  }
  await runCommands(ctx, recorded.run, by);
}

/**
 * A gate's request was decided by a vote: the run goes on past the gate (approved) or ends
 * (rejected). Records the request's outcome so it reads as executed, like any approved action.
 */
export async function afterGateDecided(
  ctx: CommandContext,
  request: ApprovalRequest,
): Promise<CommandResult> {
  if (request.payload.type !== 'runbook-gate') return { status: 'ok', id: request.id };
  const found = await ctx.services.runbooks.runs.get(request.payload.run);
  let line = `run ${request.payload.run} was not found`;
  if (found) {
    const moved = await catchUp(ctx, found);
    line =
      moved.status === 'open'
        ? `run ${moved.id} went on to step ${moved.state.step + 1}`
        : `run ${moved.id} ${moved.status}`;
  }
  if (request.status === 'approved') {
    const ended = await ctx.services.approvals.finish(request, 'executed', line);
    await refreshRequestMessage(ctx, ended);
  }
  return { status: 'ok', id: request.id, request: request.id, run: request.payload.run };
}

/**
 * Moves on every open run whose WAIT is over (the periodic sweep of a bot process; commands on
 * a run catch it up too). Each move is conditional, so several bots sweeping move a run once.
 * Returns the runs it looked at.
 */
export async function continueDueWaits(
  contextFor: (run: RunbookRun) => FlowContext | undefined,
  now: Date,
  runs: Pick<RunbookRunRepository, 'listDueWaits'>,
): Promise<string[]> {
  const moved: string[] = [];
  for (const run of await runs.listDueWaits(now)) {
    const ctx = contextFor(run);
    if (!ctx) continue;
    await catchUp(ctx, run);
    moved.push(run.id);
  }
  return moved;
}

/** How long a claimed command may go without a job id before it counts as interrupted. */
const INTERRUPTED_AFTER_MS = 60_000;

/** Waits for a job a step's command queued, whichever process queued it. */
async function followJob(
  ctx: FlowContext,
  id: string,
): Promise<{ status: string; error?: string }> {
  const { services } = ctx;
  const quiet = () => undefined;
  if (id.startsWith('bk_')) {
    const o = await services.backupJobs.follow(id, quiet);
    return o.status === 'completed'
      ? { status: 'completed' }
      : { status: 'failed', error: o.error };
  }
  if (id.startsWith('rs_')) {
    const o = await services.restores.follow(id, quiet);
    return o.status === 'completed'
      ? { status: 'completed' }
      : { status: 'failed', error: o.error };
  }
  const record = await services.verifications.follow(id, quiet);
  return { status: record.status };
}

/**
 * `/runbook run` on a step whose commands are running (the bot that ran them may have stopped):
 * never runs a started command again. It waits for the job the command recorded and goes on;
 * a command claimed long ago with no job recorded is reported as interrupted (whether it ran is
 * unknown: a person checks, then Retries or Skips); between two commands, it goes on with the
 * next one, claimed as usual.
 */
async function resumeRun(
  ctx: CommandContext,
  run: RunbookRun,
): Promise<RunbookRun | CommandResult> {
  const phase = run.state.phase;
  if (phase.kind !== 'running') return run;
  const { attempt, by } = phase;
  const last = phase.outcomes.at(-1);
  if (!phase.started && last?.status === 'awaiting_approval') {
    return refuse(ctx, run.id, `Step ${run.state.step + 1} waits for approval request ${last.id}.`);
  }
  const stale = ctx.now().getTime() - run.updatedAt.getTime() >= INTERRUPTED_AFTER_MS;
  if (phase.started?.id) {
    const { command, id } = phase.started;
    await ctx.reply.postPrivately(
      invalidInputMessage(
        `Waiting for ${id} (${command}), which step ${run.state.step + 1} started; it is not run again.`,
      ),
    );
    const ended = await followJob(ctx, id);
    const outcome: CommandOutcome = {
      command,
      status: ended.status,
      id,
      ...(ended.error ? { error: ended.error } : {}),
    };
    const recorded = await apply(ctx, run, { kind: 'command-ended', attempt, outcome }, ENGINE);
    if (!recorded.run) return (await ctx.services.runbooks.runs.get(run.id)) ?? run;
    if (ended.status !== 'completed' && ended.status !== 'passed') {
      const failed = await apply(
        ctx,
        recorded.run,
        {
          kind: 'commands-ended',
          attempt,
          error: `${command} ended ${ended.status}${ended.error ? `: ${ended.error}` : ''}`,
        },
        ENGINE,
      );
      return failed.run ? show(ctx, failed.run) : recorded.run;
    }
    await runCommands(ctx, recorded.run, by);
    return (await ctx.services.runbooks.runs.get(run.id)) ?? recorded.run;
  }
  if (!stale) {
    return refuse(
      ctx,
      run.id,
      `Step ${run.state.step + 1}'s commands are running (attempt ${attempt}); it moves on when they end.`,
    );
  }
  if (phase.started) {
    const error = `interrupted: ${phase.started.command} was started, but the bot stopped before it reported a job; check whether it ran, then Retry or Skip`;
    const failed = await apply(ctx, run, { kind: 'commands-ended', attempt, error }, ENGINE);
    return failed.run ? show(ctx, failed.run) : run;
  }
  await runCommands(ctx, run, by);
  return (await ctx.services.runbooks.runs.get(run.id)) ?? run;
}
