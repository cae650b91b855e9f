import type { CommandContext, CommandResult } from '../src/bot/command.ts';
import { unavailableMessage } from '../src/bot/views/notice.ts';
import { commandName } from '../src/core/command-grammar.ts';

/**
 * The handler of a command that is in the grammar (so it parses, validates and shows in `/help`)
 * but that this version does not carry out yet.
 */
export async function notYetAvailable(ctx: CommandContext): Promise<CommandResult> {
  const command = commandName(ctx.command);
  await ctx.reply.postPrivately(unavailableMessage(command));
  return {
    status: 'unavailable',
    command,
    error: `${command} is not available yet in this version of Lifeboat`,
  };
}
