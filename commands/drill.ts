import { defineCommand } from '../src/bot/command.ts';
import { flag, positional } from '../src/core/command-grammar.ts';
import { name } from './arguments.ts';
import { notYetAvailable } from './not-yet-available.ts';

export const drillRun = defineCommand({
  path: ['drill', 'run'],
  summary: 'Run a configured DR drill now: restore into a scratch target, check, measure RTO/RPO.',
  positionals: [
    positional({
      key: 'drill',
      name: 'NAME',
      required: true,
      description: 'A drill from the config; `/drill list` shows them.',
      schema: name,
      refersTo: 'drill',
    }),
  ],
  flags: [],
  action: 'drill.run',
  gated: true,
  enqueues: true,
  available: false,
  handler: (ctx) => notYetAvailable(ctx),
});

export const drillList = defineCommand({
  path: ['drill', 'list'],
  summary: 'List the configured drills, their schedules and objectives.',
  positionals: [],
  flags: [],
  action: 'drill.list',
  gated: false,
  enqueues: false,
  available: false,
  handler: (ctx) => notYetAvailable(ctx),
});

export const drillHistory = defineCommand({
  path: ['drill', 'history'],
  summary: 'Show past drill runs with their RTO and RPO against the objectives.',
  positionals: [
    positional({
      key: 'drill',
      name: 'NAME',
      required: false,
      description: 'Only this drill.',
      schema: name,
      refersTo: 'drill',
    }),
  ],
  flags: [
    flag.int({
      name: 'limit',
      value: 'N',
      description: 'How many runs to show.',
      min: 1,
      max: 1000,
      defaultValue: 10,
    }),
  ],
  action: 'drill.history',
  gated: false,
  enqueues: false,
  available: false,
  handler: (ctx) => notYetAvailable(ctx),
});

export const drillCommands = [drillRun, drillList, drillHistory];
