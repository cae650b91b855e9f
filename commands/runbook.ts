import { defineCommand } from '../src/bot/command.ts';
import { actOnRun, catchUp, runStep, startRun } from '../src/bot/runbook-flow.ts';
import { invalidInputMessage } from '../src/bot/views/notice.ts';
import {
  openRunsMessage,
  runbookListMessage,
  runStatusMessage,
} from '../src/bot/views/runbook-run.ts';
import { flag, positional } from '../src/core/command-grammar.ts';
import { itemNumber, name, parameter, runId, text } from './arguments.ts';

/** `--step N`: what the step's buttons carry, so a click meant for a step never acts on the next. */
const stepFlag = flag.int({
  name: 'step',
  value: 'N',
  description: 'Act only if the run is still at step N (the buttons carry it).',
  min: 1,
  max: 1000,
});

const reason = positional({
  key: 'reason',
  name: 'REASON',
  required: false,
  arity: 'rest',
  description: 'Why, in as many words as it takes (required).',
  schema: text,
});

const run = positional({
  key: 'run',
  name: 'RUN-ID',
  required: true,
  description: 'The runbook run (run_…); `/runbook status` lists the open ones.',
  schema: runId,
});

export const runbookList = defineCommand({
  path: ['runbook', 'list'],
  summary: 'List the runbooks that can be started.',
  positionals: [],
  flags: [],
  action: 'runbook.list',
  gated: false,
  enqueues: false,
  handler: async (ctx) => {
    const runbooks = await ctx.services.runbooks.library.list();
    await ctx.reply.post(runbookListMessage(runbooks));
    return {
      status: 'ok',
      runbooks: runbooks.map((r) => ({
        name: r.name,
        title: r.title,
        description: r.description,
        params: r.params.map((p) => ({
          name: p.name,
          description: p.description,
          default: p.default ?? null,
        })),
      })),
    };
  },
});

export const runbookStart = defineCommand({
  path: ['runbook', 'start'],
  summary: 'Start a runbook in a thread, one message per step.',
  positionals: [
    positional({
      key: 'runbook',
      name: 'NAME',
      required: true,
      description: 'The runbook; `/runbook list` shows them.',
      schema: name,
      suggests: 'runbook',
    }),
    positional({
      key: 'params',
      name: 'KEY=VALUE',
      required: false,
      arity: 'many',
      description: "Values for the runbook's parameters.",
      schema: parameter,
    }),
  ],
  flags: [],
  action: 'runbook.start',
  gated: true,
  enqueues: false,
  examples: ['/runbook start database-corruption backup=latest'],
  handler: (ctx, args) => startRun(ctx, args.runbook, args.params ?? []),
});

export const runbookStatus = defineCommand({
  path: ['runbook', 'status'],
  summary: 'Show where every open run stands, or one run in full.',
  positionals: [
    positional({
      key: 'run',
      name: 'RUN-ID',
      required: false,
      description: 'Only this run.',
      schema: runId,
    }),
  ],
  flags: [],
  action: 'runbook.status',
  gated: false,
  enqueues: false,
  handler: async (ctx, args) => {
    const { runs } = ctx.services.runbooks;
    if (args.run === undefined) {
      const open = await Promise.all((await runs.listOpen()).map((r) => catchUp(ctx, r)));
      const still = open.filter((r) => r.status === 'open');
      await ctx.reply.post(openRunsMessage(still, ctx.now()));
      return { status: 'ok', runs: still.map((r) => ({ id: r.id, step: r.state.step + 1 })) };
    }
    const found = await runs.get(args.run);
    if (!found) {
      const error = `There is no runbook run \`${args.run}\`. \`/runbook status\` lists the open ones.`;
      await ctx.reply.postPrivately(invalidInputMessage(error));
      return { status: 'invalid', error };
    }
    const run = await catchUp(ctx, found);
    const timeline = await runs.timeline(run.id);
    await ctx.reply.post(runStatusMessage(run, timeline, ctx.now()));
    return {
      status: 'ok',
      id: run.id,
      runStatus: run.status,
      step: run.state.step + 1,
      timeline: timeline.map((e) => ({
        at: e.at.toISOString(),
        step: e.step,
        actor: e.actor,
        kind: e.kind,
        detail: e.detail,
      })),
    };
  },
});

export const runbookDone = defineCommand({
  path: ['runbook', 'done'],
  summary: "Finish the run's current step (all its checklist items ticked).",
  positionals: [run],
  flags: [stepFlag],
  action: 'runbook.done',
  gated: true,
  enqueues: false,
  handler: (ctx, args) => actOnRun(ctx, args.run, { kind: 'done' }, args.step),
});

export const runbookSkip = defineCommand({
  path: ['runbook', 'skip'],
  summary: "Skip the run's current step, saying why.",
  positionals: [run, reason],
  flags: [stepFlag],
  action: 'runbook.skip',
  gated: true,
  enqueues: false,
  examples: ['/runbook skip run_20261207T120000Z_7q3k9x writers were already stopped'],
  handler: (ctx, args) =>
    actOnRun(ctx, args.run, { kind: 'skip', reason: args.reason ?? '' }, args.step),
});

export const runbookRun = defineCommand({
  path: ['runbook', 'run'],
  summary: "Run the commands of the run's current step, as you, and wait for their jobs.",
  positionals: [run],
  flags: [stepFlag],
  action: 'runbook.run',
  gated: true,
  enqueues: true,
  handler: (ctx, args) => runStep(ctx, args.run, args.step),
});

export const runbookAbort = defineCommand({
  path: ['runbook', 'abort'],
  summary: 'Abort the run, saying why.',
  positionals: [run, reason],
  flags: [stepFlag],
  action: 'runbook.abort',
  gated: true,
  enqueues: false,
  examples: ['/runbook abort run_20261207T120000Z_7q3k9x false alarm'],
  handler: (ctx, args) =>
    actOnRun(ctx, args.run, { kind: 'abort', reason: args.reason ?? '' }, args.step),
});

export const runbookCheck = defineCommand({
  path: ['runbook', 'check'],
  summary: "Tick checklist item N of the run's current step.",
  positionals: [
    run,
    positional({
      key: 'item',
      name: 'N',
      required: true,
      description: 'The item number, counting from 1.',
      schema: itemNumber,
    }),
  ],
  flags: [stepFlag],
  action: 'runbook.check',
  gated: true,
  enqueues: false,
  handler: (ctx, args) => actOnRun(ctx, args.run, { kind: 'check', item: args.item }, args.step),
});

export const runbookCommands = [
  runbookList,
  runbookStart,
  runbookStatus,
  runbookDone,
  runbookSkip,
  runbookRun,
  runbookAbort,
  runbookCheck,
];
