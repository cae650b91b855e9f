import { defineCommand } from '../src/bot/command.ts';
import {
  commandHelpMessage,
  groupHelpMessage,
  helpOverviewMessage,
} from '../src/bot/views/help.ts';
import { invalidInputMessage } from '../src/bot/views/notice.ts';
import { commandName, positional } from '../src/core/command-grammar.ts';
import { parseCommand } from '../src/core/parse-command.ts';
import { text } from './arguments.ts';

export const help = defineCommand({
  path: ['help'],
  group: 'general',
  summary: 'List every command, or show one in full.',
  positionals: [
    positional({
      key: 'command',
      name: 'COMMAND',
      required: false,
      arity: 'rest',
      description: 'A command or group, with or without the slash: `backup create`, `/restore`.',
      schema: text,
    }),
  ],
  flags: [],
  action: 'help',
  gated: false,
  enqueues: false,
  examples: ['/help', '/help backup create'],
  handler: async (ctx, args) => {
    if (args.command === undefined) {
      await ctx.reply.post(helpOverviewMessage(ctx.commands));
      return { status: 'ok', commands: ctx.commands.map((c) => commandName(c)) };
    }
    // The grammar's own matching finds the command, so `/help backup create full` works too.
    const parsed = parseCommand(args.command, ctx.commands);
    const command = parsed.ok ? parsed.command : parsed.command;
    if (command) {
      await ctx.reply.post(commandHelpMessage(command));
      return { status: 'ok', command: commandName(command) };
    }
    if (!parsed.ok && parsed.reason === 'incomplete_command') {
      const group = args.command.trim().replace(/^\//, '').split(/\s+/)[0]?.toLowerCase() ?? '';
      await ctx.reply.post(groupHelpMessage(group, ctx.commands));
      return { status: 'ok', command: `/${group}` };
    }
    const error = parsed.ok ? '' : parsed.error;
    await ctx.reply.postPrivately(invalidInputMessage(error));
    return { status: 'invalid', error };
  },
});

export const helpCommands = [help];
