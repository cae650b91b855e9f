import { type Command, defineCommand } from '../src/bot/command.ts';
import { positional } from '../src/core/command-grammar.ts';
import { itemNumber, name, parameter, runId } from './arguments.ts';
import { notYetAvailable } from './not-yet-available.ts';

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
  handler: (ctx) => notYetAvailable(ctx),
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
  handler: (ctx) => notYetAvailable(ctx),
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
  handler: (ctx) => notYetAvailable(ctx),
});

/** The typed forms of a step's Done, Skip, Run and Abort buttons. */
function stepCommand(
  word: 'done' | 'skip' | 'run' | 'abort',
  summary: string,
  enqueues: boolean,
): Command {
  return defineCommand({
    path: ['runbook', word],
    summary,
    positionals: [run],
    flags: [],
    action: `runbook.${word}`,
    gated: true,
    enqueues,
    handler: (ctx) => notYetAvailable(ctx),
  });
}

export const runbookDone = stepCommand(
  'done',
  "Finish the run's current step (all its checklist items ticked).",
  false,
);
export const runbookSkip = stepCommand('skip', "Skip the run's current step.", false);
export const runbookRun = stepCommand(
  'run',
  "Run the commands of the run's current step and wait for their jobs.",
  true,
);
export const runbookAbort = stepCommand('abort', 'Abort the run.', false);

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
  flags: [],
  action: 'runbook.check',
  gated: true,
  enqueues: false,
  handler: (ctx) => notYetAvailable(ctx),
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
