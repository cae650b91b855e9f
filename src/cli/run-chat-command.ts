import { Readable } from 'node:stream';
import type { CommandResult } from '../bot/dispatcher.ts';
import { ConsoleAdapter } from '../chat/console/console-adapter.ts';
import { quoteWords } from '../core/tokenize.ts';
import type { App } from '../main.ts';

/**
 * Runs one chat command given as CLI words (`backup create full`), as the OS user, printing
 * the bot's messages to `output` as the console would; resolves to the command's result.
 */
export async function runChatCommand(
  app: Pick<App, 'dispatcher'>,
  options: {
    words: readonly string[];
    user: string;
    output: NodeJS.WritableStream;
    /** Where files sent with messages are written. @defaultValue `./.lifeboat/files` */
    filesDirectory?: string;
  },
): Promise<CommandResult> {
  const line = `/${quoteWords(options.words)}`;
  const adapter = new ConsoleAdapter({
    ...(options.filesDirectory ? { filesDirectory: options.filesDirectory } : {}),
    input: Readable.from([`${line}\n`]),
    output: options.output,
    user: options.user,
    platform: 'cli',
    interactive: false,
  });
  let result: CommandResult = { status: 'failed', error: 'the command did not run' };
  await adapter.start(async (event) => {
    result = await app.dispatcher.handle(event, adapter.replyTo(event));
  });
  await adapter.done;
  return result;
}
