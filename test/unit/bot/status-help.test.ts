import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { commandName } from '../../../src/core/command-grammar.ts';
import { usageLine } from '../../../src/core/command-help.ts';
import { completedBackup, failedBackup } from '../../doubles/sample-backups.ts';
import { testBot } from '../../doubles/test-bot.ts';

describe('/status', () => {
  it('reports services, workers, queue and each profile’s last success and failure', async () => {
    const { chat, services, config } = testBot();
    const success = completedBackup(config, {
      profile: 'full',
      createdAt: new Date('2026-11-22T02:00:00Z'),
    });
    const failure = failedBackup({
      profile: 'db',
      createdAt: new Date('2026-11-22T11:00:00Z'),
      error: 'connection refused',
      targets: ['app-db'],
    });
    services.status.current = {
      services: [
        { name: 'PostgreSQL', ok: true, detail: '127.0.0.1:5432' },
        { name: 'Redis', ok: false, detail: 'connection refused' },
      ],
      workers: 0,
      queue: { waiting: 3, active: 0, failed: 1 },
      profiles: [
        { profile: 'full', schedule: '0 2 * * *', lastSuccess: success, lastFailure: null },
        { profile: 'db', schedule: null, lastSuccess: null, lastFailure: failure },
      ],
    };

    const result = await chat.say('/status');

    // Something it checks is down: the command fails (the CLI exits 1), saying what.
    expect(result).toMatchObject({
      status: 'failed',
      error: 'not healthy: Redis (connection refused)',
      workers: 0,
      queue: { waiting: 3 },
    });
    const text = chat.lastText();
    expect(text).toContain('[danger] Not healthy: Redis (connection refused)');
    expect(text).toContain('[warning] No worker is serving the queue');
    expect(text).toContain('Queue: 3 waiting, 0 active, 1 failed');
    expect(text).toContain(
      `✔ full (schedule \`0 2 * * *\`) — last success: 9h ago (\`${success.id}\`, 36.0 MiB)`,
    );
    expect(text).toContain(
      `✖ db (on demand) — last success: never; last failure: 59m ago (\`${failure.id}\`)`,
    );
  });

  it('counts one waiting job in the singular in the notification text', async () => {
    const { chat, services } = testBot();
    services.status.current = {
      services: [{ name: 'PostgreSQL', ok: true, detail: '127.0.0.1:5432' }],
      workers: 1,
      queue: { waiting: 1, active: 0, failed: 0 },
      profiles: [],
    };

    await chat.say('/status');

    expect(chat.last().text).toBe('Lifeboat status: all services up, 1 worker, 1 job waiting');
  });

  it('says what it cannot know while a service is down, rather than guessing', async () => {
    const { chat, services } = testBot();
    services.status.current = {
      services: [
        { name: 'PostgreSQL (catalog)', ok: false, detail: 'connection refused' },
        { name: 'Redis (queue)', ok: false, detail: 'connection refused' },
      ],
      workers: null,
      queue: null,
      profiles: null,
    };
    const result = await chat.say('/status');
    expect(result).toMatchObject({ status: 'failed', workers: null, queue: null });
    const text = chat.lastText();
    expect(text).toContain('Workers: unknown (its service is down)');
    expect(text).toContain('Queue: unknown (its service is down)');
    expect(text).toContain('Profiles: unknown while the catalog is unreachable.');
    expect(text).not.toContain('No worker is serving the queue');
  });

  it('says nothing alarming when all is well', async () => {
    const { chat } = testBot();
    expect((await chat.say('/status')).status).toBe('ok');
    expect(chat.lastText()).not.toContain('[danger]');
    expect(chat.lastText()).not.toContain('[warning]');
  });
});

describe('/help', () => {
  it('lists every command of the grammar', async () => {
    const { chat } = testBot();
    const result = await chat.say('/help');
    expect(result.status).toBe('ok');
    for (const command of commands) {
      expect(chat.lastText()).toContain(`\`${usageLine(command)}\` — ${command.summary}`);
    }
  });

  it.each(commands.map((c) => [commandName(c).slice(1), c] as const))(
    'shows the usage, arguments and flags of %s',
    async (name, command) => {
      const { chat } = testBot();
      const result = await chat.say(`/help ${name}`);
      expect(result).toEqual({ status: 'ok', command: commandName(command) });
      const text = chat.lastText();
      expect(text).toContain(usageLine(command));
      for (const p of command.positionals) expect(text).toContain(`${p.name}: ${p.description}`);
      for (const f of command.flags) expect(text).toContain(f.description);
    },
  );

  it('takes the command with its slash, or with arguments after it', async () => {
    const { chat } = testBot();
    expect(await chat.say('/help /backup create')).toEqual({
      status: 'ok',
      command: '/backup create',
    });
    expect(await chat.say('/help backup show')).toEqual({ status: 'ok', command: '/backup show' });
    expect(await chat.say('/help restore latest')).toEqual({ status: 'ok', command: '/restore' });
  });

  it('lists a group’s commands', async () => {
    const { chat } = testBot();
    expect(await chat.say('/help runbook')).toEqual({ status: 'ok', command: '/runbook' });
    expect(chat.lastText()).toContain('/runbook check RUN-ID N');
  });

  it('answers an unknown command with a suggestion', async () => {
    const { chat } = testBot();
    const result = await chat.say('/help bakup');
    expect(result.status).toBe('invalid');
    expect(chat.lastText()).toContain('Unknown command `/bakup`; did you mean `/backup`?');
  });
});
