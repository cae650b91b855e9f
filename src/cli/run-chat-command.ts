import { Readable } from 'node:stream';
import type { CommandResult } from '../bot/dispatcher.ts';
import { ConsoleAdapter } from '../chat/console/console-adapter.ts';
import { replyChannel } from '../chat/reply-channel.ts';
import type { App } from '../main.ts';

/** Quotes a word for the command tokenizer, so argv survives being joined into one line. */
export function quoteWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Runs one chat command given as CLI words (`backup create full`), as the OS user, printing
 * the bot's messages to `output` as the console would; resolves to the command's result.
 */
export async function runChatCommand(
  app: Pick<App, 'dispatcher'>,
  options: { words: readonly string[]; user: string; output: NodeJS.WritableStream },
): Promise<CommandResult> {
  const line = `/${options.words.map(quoteWord).join(' ')}`;
  const adapter = new ConsoleAdapter({
    input: Readable.from([`${line}\n`]),
    output: options.output,
    user: options.user,
    platform: 'cli',
    interactive: false,
  });
  let result: CommandResult = { status: 'failed', error: 'the command did not run' };
  await adapter.start(async (event) => {
    result = await app.dispatcher.handle(event, replyChannel(adapter, event.channel));
  });
  await adapter.done;
  return result;
}
