import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InboundEvent } from '../../../../src/chat/chat-adapter.ts';
import {
  ConsoleAdapter,
  type ConsoleAdapterOptions,
} from '../../../../src/chat/console/console-adapter.ts';
import type { ChatMessage } from '../../../../src/chat/message.ts';

type Options = Partial<Omit<ConsoleAdapterOptions, 'input' | 'output'>>;

const sessions: { input: PassThrough; adapter: ConsoleAdapter }[] = [];

afterEach(async () => {
  for (const { input, adapter } of sessions.splice(0)) {
    input.end();
    await adapter.stop();
    await adapter.done;
  }
});

/** A console on in-memory streams; `screen()` is everything printed so far. */
function openConsole(options: Options = {}, terminal = false) {
  const input = new PassThrough();
  const output = terminal
    ? Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 40 })
    : new PassThrough();
  let printed = '';
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    printed += chunk;
  });
  const adapter = new ConsoleAdapter({ input, output, user: 'alice', ...options });
  sessions.push({ input, adapter });
  return {
    input,
    adapter,
    screen: () => printed,
    type: (...lines: string[]) => input.write(lines.map((line) => `${line}\n`).join('')),
  };
}

/** Starts a console that reads `script` to its end, and waits until the session is over. */
async function runScript(
  script: string,
  handler: (event: InboundEvent, adapter: ConsoleAdapter) => Promise<void>,
  options: Options = {},
) {
  const session = openConsole(options);
  await session.adapter.start((event) => handler(event, session.adapter));
  session.input.end(script);
  await session.adapter.done;
  return session;
}

function texts(events: readonly InboundEvent[]): string[] {
  return events.flatMap((event) => (event.kind === 'command' ? [event.text] : []));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function progress(fraction: number): ChatMessage {
  return {
    text: 'Backup bk_1 running',
    blocks: [
      { type: 'header', text: 'Backup bk_1 running' },
      { type: 'progress', label: 'app-db', fraction, detail: '' },
    ],
  };
}

const completed: ChatMessage = {
  text: 'Backup bk_1 completed',
  blocks: [{ type: 'callout', tone: 'success', text: 'Backup bk_1 completed' }],
};

describe('ConsoleAdapter', () => {
  it('identifies itself as the console platform', () => {
    expect(openConsole().adapter.platform).toBe('console');
  });

  describe('reading a script from a pipe', () => {
    it('handles each command only after the one before it has finished', async () => {
      const log: string[] = [];
      const delays: Record<string, number> = { '/one': 40, '/two': 0, '/three': 10 };
      await runScript('/one\n/two\n/three\n', async (event) => {
        if (event.kind !== 'command') return;
        log.push(`start ${event.text}`);
        await sleep(delays[event.text] ?? 0);
        log.push(`end ${event.text}`);
      });

      expect(log).toEqual([
        'start /one',
        'end /one',
        'start /two',
        'end /two',
        'start /three',
        'end /three',
      ]);
    });

    it('sends commands as the starting user from the console channel', async () => {
      const events: InboundEvent[] = [];
      await runScript('/status\n', async (event) => void events.push(event), {
        channel: 'ops',
      });

      expect(events).toEqual([
        {
          kind: 'command',
          identity: { platform: 'console', id: 'alice' },
          channel: { channel: 'ops' },
          text: '/status',
          ack: expect.objectContaining({ accept: expect.any(Function) }),
        },
      ]);
    });

    it('switches the acting user with /as without passing the line to the handler', async () => {
      const events: InboundEvent[] = [];
      const { screen } = await runScript(
        '/restore latest\n/as bob\n/approve apr_1\n/as alice\n/approvals\n',
        async (event) => void events.push(event),
      );

      expect(events.map((e) => [e.identity.id, texts([e])[0]])).toEqual([
        ['alice', '/restore latest'],
        ['bob', '/approve apr_1'],
        ['alice', '/approvals'],
      ]);
      expect(screen()).toContain('Now acting as bob (console:bob).');
      expect(screen()).toContain('bob> /approve apr_1');
      expect(screen()).toContain('alice> /approvals');
    });

    it('refuses a user name with spaces or punctuation and keeps the acting user', async () => {
      const events: InboundEvent[] = [];
      const { screen } = await runScript(
        '/as bob smith\n/status\n',
        async (event) => void events.push(event),
      );

      expect(events.map((e) => e.identity.id)).toEqual(['alice']);
      expect(screen()).toContain('"bob smith" is not a user name');
    });

    it('refuses a name with control characters or too long', async () => {
      const events: InboundEvent[] = [];
      const { screen } = await runScript(
        `/as \u001b[2Jroot\n/as ${'x'.repeat(65)}\n/status\n`,
        async (event) => void events.push(event),
      );
      expect(events.map((e) => e.identity.id)).toEqual(['alice']);
      expect(screen()).toContain('"\\u001b[2Jroot" is not a user name');
      expect(screen()).toContain('at most 64 characters');
    });

    it('refuses /as, saying why, when impersonation is turned off', async () => {
      const events: InboundEvent[] = [];
      const { screen } = await runScript(
        '/as bob\n/status\n',
        async (event) => void events.push(event),
        { impersonationOff: 'impersonation is off: you are console:alice' },
      );
      expect(events.map((e) => e.identity.id)).toEqual(['alice']);
      expect(screen()).toContain('impersonation is off: you are console:alice');
      expect(screen()).not.toContain('Now acting as bob');
    });

    it('says who is acting when /as has no name', async () => {
      const { screen } = await runScript('/as\n', async () => {});

      expect(screen()).toContain('Acting as alice (console:alice)');
    });

    it('skips blank lines and # comments without echoing them', async () => {
      const events: InboundEvent[] = [];
      const { screen } = await runScript(
        '# set up\n\n   \n  # indented comment\n/status\n',
        async (event) => void events.push(event),
      );

      expect(texts(events)).toEqual(['/status']);
      expect(screen()).not.toContain('set up');
      expect(screen()).not.toContain('indented comment');
    });

    it('answers a line without a slash with a hint instead of sending it', async () => {
      const events: InboundEvent[] = [];
      const { screen } = await runScript(
        'backup create\n',
        async (event) => void events.push(event),
      );

      expect(events).toEqual([]);
      expect(screen()).toContain('Commands start with /, try /help.');
    });

    it('echoes each command after a prompt so the output reads like a session', async () => {
      const { screen } = await runScript('/status\n', async (event, adapter) => {
        await adapter.post(event.channel, { text: 'All quiet', blocks: [] });
      });

      expect(screen()).toBe('alice> /status\nAll quiet\n');
    });

    it('prints no timestamp heading and no escape codes into a pipe', async () => {
      const { screen } = await runScript('/status\n', async (event, adapter) => {
        await adapter.post(event.channel, completed);
      });

      expect(screen()).not.toContain('lifeboat ·');
      expect(screen()).not.toContain('\x1b');
    });

    it('ends the session at /quit and reads no further', async () => {
      const events: InboundEvent[] = [];
      await runScript('/status\n/quit\n/backup create\n', async (e) => void events.push(e));

      expect(texts(events)).toEqual(['/status']);
    });

    it('keeps going with the next line after the handler throws', async () => {
      const events: InboundEvent[] = [];
      const { screen } = await runScript('/backup create\n/status\n', async (event) => {
        events.push(event);
        if (texts([event])[0] === '/backup create') throw new Error('queue unreachable');
      });

      expect(texts(events)).toEqual(['/backup create', '/status']);
      expect(screen()).toContain('✖ Error: /backup create failed: queue unreachable');
    });
  });

  describe('running one command for the command line', () => {
    it('gives the command the cli identity and does not echo it', async () => {
      const events: InboundEvent[] = [];
      const { adapter, screen } = await runScript(
        '/backup list\n',
        async (event, chat) => {
          events.push(event);
          await chat.post(event.channel, { text: 'No backups yet.', blocks: [] });
        },
        { platform: 'cli', user: 'root' },
      );

      expect(adapter.platform).toBe('cli');
      expect(events.map((e) => e.identity)).toEqual([{ platform: 'cli', id: 'root' }]);
      expect(screen()).toBe('No backups yet.\n');
    });

    it('does not let /as switch the user', async () => {
      const events: InboundEvent[] = [];
      await runScript('/as bob\n', async (event) => void events.push(event), { platform: 'cli' });

      expect(events).toEqual([expect.objectContaining({ text: '/as bob' })]);
    });
  });

  describe('the end of a session', () => {
    it('settles done only after the last command has finished', async () => {
      let finished = false;
      const session = openConsole();
      await session.adapter.start(async () => {
        await sleep(50);
        finished = true;
      });
      session.input.end('/backup create\n');

      await session.adapter.done;
      expect(finished).toBe(true);
    });

    it('settles done only after work handed to waitFor has finished', async () => {
      let jobFinished = false;
      const session = openConsole();
      await session.adapter.start(async () => {
        session.adapter.waitFor(
          sleep(50).then(() => {
            jobFinished = true;
          }),
        );
      });
      session.input.end('/backup create\n');

      await session.adapter.done;
      expect(jobFinished).toBe(true);
    });

    it('stops reading when stopped, leaving queued lines unread', async () => {
      const events: InboundEvent[] = [];
      const session = openConsole();
      await session.adapter.start(async (event) => {
        events.push(event);
        await session.adapter.stop();
      });
      session.type('/one', '/two', '/three');

      await session.adapter.done;
      expect(texts(events)).toEqual(['/one']);
    });

    it('settles done when stopped before it was started', async () => {
      const { adapter } = openConsole();
      await adapter.stop();

      await expect(adapter.done).resolves.toBeUndefined();
    });
  });

  describe('updates in a pipe', () => {
    it('prints a progress-only update at most once per interval', async () => {
      const session = openConsole({ progressIntervalMs: 60_000 });
      const ref = await session.adapter.post({ channel: 'console' }, progress(0));
      for (const fraction of [0.25, 0.5, 0.75])
        await session.adapter.update(ref, progress(fraction));

      expect(session.screen()).toContain('  0%');
      expect(session.screen()).not.toMatch(/25%|50%|75%/);
    });

    it('prints a held-back progress update once the interval has passed', async () => {
      const session = openConsole({ progressIntervalMs: 30 });
      const ref = await session.adapter.post({ channel: 'console' }, progress(0));
      await session.adapter.update(ref, progress(0.25));
      await session.adapter.update(ref, progress(0.5));

      await vi.waitFor(() => expect(session.screen()).toContain(' 50%'));
      expect(session.screen()).not.toContain(' 25%');
    });

    it('prints an update that changes more than progress at once', async () => {
      const session = openConsole({ progressIntervalMs: 60_000 });
      const ref = await session.adapter.post({ channel: 'console' }, progress(0));
      await session.adapter.update(ref, progress(0.5));
      await session.adapter.update(ref, completed);

      expect(session.screen()).toContain('✔ OK: Backup bk_1 completed');
      expect(session.screen()).not.toContain(' 50%');
    });

    it('prints a held-back final progress state when flushed', async () => {
      const session = openConsole({ progressIntervalMs: 60_000 });
      const ref = await session.adapter.post({ channel: 'console' }, progress(0));
      await session.adapter.update(ref, progress(0.5));
      await session.adapter.update(ref, progress(1));
      expect(session.screen()).not.toContain('100%');

      await session.adapter.flush();
      expect(session.screen()).toContain('100%');
      expect(session.screen()).not.toContain(' 50%');
    });

    it('prints the held-back final state before the session ends', async () => {
      const session = openConsole({ progressIntervalMs: 60_000 });
      await session.adapter.start(async (event) => {
        const ref = await session.adapter.post(event.channel, progress(0));
        session.adapter.waitFor(
          (async () => {
            await sleep(10);
            await session.adapter.update(ref, progress(1));
          })(),
        );
      });
      session.input.end('/backup create\n');

      await session.adapter.done;
      expect(session.screen()).toContain('100%');
    });

    it('does not print an update that changes nothing visible', async () => {
      const session = openConsole({ progressIntervalMs: 0 });
      const ref = await session.adapter.post({ channel: 'console' }, completed);
      await session.adapter.update(ref, { ...completed, text: 'another fallback' });

      expect(session.screen().match(/Backup bk_1 completed/g)).toHaveLength(1);
    });

    it('returns a reference in the channel and thread it was posted to', async () => {
      const { adapter } = openConsole();
      const ref = await adapter.post({ channel: 'ops', thread: 'm1' }, completed);

      expect(ref).toEqual({ channel: 'ops', thread: 'm1', messageId: expect.any(String) });
    });
  });

  describe('in a terminal', () => {
    it('runs a command while an earlier one is still working', async () => {
      const started: string[] = [];
      let release: () => void = () => {};
      const blocker = new Promise<void>((resolve) => {
        release = resolve;
      });
      const session = openConsole({ interactive: true, color: false }, true);
      await session.adapter.start(async (event) => {
        started.push(texts([event])[0] ?? '');
        if (texts([event])[0] === '/backup create') await blocker;
      });
      session.type('/backup create', '/status');

      try {
        await vi.waitFor(() => expect(started).toEqual(['/backup create', '/status']));
      } finally {
        release();
      }
    });

    it('shows a prompt with the acting user', async () => {
      const session = openConsole({ interactive: true, color: false }, true);
      await session.adapter.start(async () => {});
      session.type('/as bob');

      await vi.waitFor(() => expect(session.screen()).toContain('bob> '));
      expect(session.screen()).toContain('alice> ');
    });

    it('heads a message with the time and redraws its update in place', async () => {
      const session = openConsole(
        { interactive: true, color: false, now: () => new Date(2026, 0, 1, 3, 4, 5) },
        true,
      );
      await session.adapter.start(async () => {});
      const ref = await session.adapter.post({ channel: 'console' }, progress(0));
      await session.adapter.update(ref, progress(0.5));

      const screen = session.screen();
      expect(screen.match(/lifeboat · 03:04:05/g)).toHaveLength(1);
      // Header, rule and progress line: three rows up, then the new version.
      const redraw = screen.indexOf('\x1b[3A');
      expect(redraw).toBeGreaterThan(screen.indexOf('  0%'));
      expect(screen.indexOf(' 50%')).toBeGreaterThan(redraw);
    });

    it('prints an update anew once something else has been printed after it', async () => {
      const session = openConsole({ interactive: true, color: false, progressIntervalMs: 0 }, true);
      await session.adapter.start(async () => {});
      const ref = await session.adapter.post({ channel: 'console' }, progress(0));
      await session.adapter.post({ channel: 'console' }, completed);
      await session.adapter.update(ref, progress(0.5));

      expect(session.screen()).not.toContain('\x1b[3A');
      expect(session.screen().match(/lifeboat ·/g)).toHaveLength(3);
    });

    it('names the channel of a message posted somewhere else', async () => {
      const session = openConsole({ interactive: true, color: false }, true);
      await session.adapter.start(async () => {});
      await session.adapter.post({ channel: 'alerts' }, completed);

      expect(session.screen()).toMatch(/lifeboat · \d\d:\d\d:\d\d · #alerts/);
    });
  });
});

describe('ConsoleAdapter: files, threads and mentions', () => {
  async function filesDirectory() {
    const root = await mkdtemp(join(tmpdir(), 'lifeboat-console-files-'));
    return { root, dir: join(root, 'files') };
  }

  it('writes attachments to new private files under the files directory and prints the path', async () => {
    const { root, dir } = await filesDirectory();
    try {
      const session = openConsole({ filesDirectory: dir, width: 300 });
      const previous = process.umask(0o022);
      try {
        await session.adapter.post(
          { channel: 'console' },
          {
            text: 'chart',
            blocks: [{ type: 'image', filename: '../../etc/passwd', alt: 'RTO chart' }],
            attachments: [
              {
                filename: '../../etc/passwd',
                contentType: 'image/png',
                data: new TextEncoder().encode('png'),
              },
              { filename: '.hidden rto.png', contentType: 'image/png', data: new Uint8Array(1) },
            ],
          },
        );
      } finally {
        process.umask(previous);
      }
      const names = await readdir(dir);
      expect(names).toHaveLength(2);
      for (const name of names) {
        expect(name).toMatch(/^\d{8}T\d{6}Z-[0-9a-z]{6}-[A-Za-z0-9][A-Za-z0-9._-]*$/);
        expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
        expect(session.screen()).toContain(join(dir, name));
      }
      expect(names.some((n) => n.endsWith('-passwd'))).toBe(true);
      expect(names.some((n) => n.endsWith('-hidden_rto.png'))).toBe(true);
      const passwd = names.find((n) => n.endsWith('-passwd')) ?? '';
      expect(await readFile(join(dir, passwd), 'utf8')).toBe('png');
      expect(session.screen()).toContain(`[image: RTO chart] (${join(dir, passwd)})`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('never overwrites: the same attachment posted twice is two files', async () => {
    const { root, dir } = await filesDirectory();
    try {
      const session = openConsole({ filesDirectory: dir });
      const message: ChatMessage = {
        text: 'export',
        blocks: [{ type: 'section', text: 'timeline' }],
        attachments: [{ filename: 't.md', contentType: 'text/markdown', data: new Uint8Array(1) }],
      };
      const ref = await session.adapter.post({ channel: 'console' }, message);
      await session.adapter.post({ channel: 'console' }, message);
      // An update of the same message does not write its files again.
      await session.adapter.update(ref, message);
      expect(await readdir(dir)).toHaveLength(2);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('shows a message that could not save its file, saying so', async () => {
    const { root } = await filesDirectory();
    try {
      const blocker = join(root, 'not-a-directory');
      await writeFile(blocker, '');
      const session = openConsole({ filesDirectory: blocker });
      await session.adapter.post(
        { channel: 'console' },
        {
          text: 'x',
          blocks: [{ type: 'section', text: 'with a file' }],
          attachments: [{ filename: 'a.txt', contentType: 'text/plain', data: new Uint8Array(1) }],
        },
      );
      expect(session.screen()).toContain('with a file');
      expect(session.screen()).toContain('a.txt');
      expect(session.screen()).toContain('not saved');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('indents a thread’s messages under a line naming the thread', async () => {
    const session = openConsole();
    const parent = await session.adapter.post(
      { channel: 'console' },
      { text: 'run', blocks: [{ type: 'header', text: 'Runbook database-corruption' }] },
    );
    const thread = await session.adapter.startThread(parent, 'database-corruption run_1');
    const step = await session.adapter.post(thread, {
      text: 'step 1',
      blocks: [{ type: 'section', text: 'Step 1: stop the writers' }],
    });
    expect(step.thread).toBe(thread.thread);
    await session.adapter.update(step, {
      text: 'step 1 done',
      blocks: [{ type: 'section', text: 'Step 1: done' }],
    });
    const screen = session.screen();
    expect(screen).toContain(
      `  ↳ in thread "database-corruption run_1" (under ${parent.messageId})`,
    );
    expect(screen).toContain('  │ Step 1: stop the writers');
    expect(screen).toContain('  │ Step 1: done');
    expect(screen).not.toMatch(/^Step 1/m);
  });

  it('shows mentions as identities', async () => {
    const session = openConsole();
    await session.adapter.post(
      { channel: 'console' },
      { text: 'x', blocks: [{ type: 'section', text: 'Waiting for \uE000console:bob\uE001' }] },
    );
    expect(session.screen()).toContain('Waiting for @console:bob');
    expect(session.screen()).not.toMatch(/[\uE000\uE001]/);
  });
});
