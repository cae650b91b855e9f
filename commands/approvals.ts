import { defineCommand } from '../src/bot/command.ts';
import { positional } from '../src/core/command-grammar.ts';
import { requestId, text } from './arguments.ts';
import { notYetAvailable } from './not-yet-available.ts';

const request = positional({
  key: 'request',
  name: 'REQUEST-ID',
  required: true,
  description: 'The approval request (apr_…); `/approvals` lists the open ones.',
  schema: requestId,
});

export const approve = defineCommand({
  path: ['approve'],
  group: 'approvals',
  summary: 'Approve a pending request (the typed form of its Approve button).',
  positionals: [request],
  flags: [],
  action: 'approve',
  gated: true,
  // The approved action runs as soon as enough people approved it.
  enqueues: true,
  handler: (ctx) => notYetAvailable(ctx),
});

export const reject = defineCommand({
  path: ['reject'],
  group: 'approvals',
  summary: 'Reject a pending request (the typed form of its Reject button).',
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
  handler: (ctx) => notYetAvailable(ctx),
});

export const approvals = defineCommand({
  path: ['approvals'],
  group: 'approvals',
  summary: 'List the approval requests that are still open.',
  positionals: [],
  flags: [],
  action: 'approvals.list',
  gated: false,
  enqueues: false,
  handler: (ctx) => notYetAvailable(ctx),
});

export const approvalCommands = [approve, reject, approvals];
