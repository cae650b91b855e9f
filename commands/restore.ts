import { defineCommand } from '../src/bot/command.ts';
import { flag } from '../src/core/command-grammar.ts';
import { backupRefPositional, latestProfileFlag, name, text } from './arguments.ts';
import { notYetAvailable } from './not-yet-available.ts';

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
  handler: (ctx) => notYetAvailable(ctx),
});

export const restoreCommands = [restore];
