import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConsoleAdapter } from '../../src/chat/console/console-adapter.ts';
import { describeChatAdapterContract } from './chat-adapter.contract.ts';

describeChatAdapterContract('console', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    screen += chunk;
  });
  const files = await mkdtemp(join(tmpdir(), 'lifeboat-console-contract-'));
  const adapter = new ConsoleAdapter({
    input,
    output,
    user: 'alice',
    interactive: false,
    filesDirectory: files,
  });
  let typingAs = 'alice';

  return {
    adapter,
    channel: { channel: 'console' },
    identityOf: (user) => ({ platform: 'console', id: user }),
    send: async (user, text) => {
      if (user !== typingAs) input.write(`/as ${user}\n`);
      typingAs = user;
      input.write(`${text}\n`);
    },
    click: async (user, _on, button) => {
      if (user !== typingAs) input.write(`/as ${user}\n`);
      typingAs = user;
      input.write(`${button.command}\n`);
    },
    // Nobody waits on the console: every event is acknowledged as it arrives.
    acknowledged: async () => undefined,
    seen: async () => screen,
    // The console prints private answers on the one screen there is.
    seenPrivately: async () => screen,
    privateIsPublic: true,
    close: async () => {
      input.end();
      await adapter.stop();
      await adapter.done;
      await rm(files, { recursive: true, force: true });
    },
  };
});
