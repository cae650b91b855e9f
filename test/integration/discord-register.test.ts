import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';

type Registered = {
  name: string;
  options: { type: number; name: string; options?: { name: string; autocomplete?: boolean }[] }[];
}[];

describe('lifeboat discord register', () => {
  let fake: FakeDiscord;
  let cwd: string;
  const token = 'register-test-token.SECRET';

  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'lifeboat-discord-register-'));
  });
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });
  beforeEach(async () => {
    fake = await FakeDiscord.start();
  });
  afterEach(async () => {
    await fake.close();
  });

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DISCORD_TOKEN: token,
      DISCORD_APPLICATION_ID: fake.applicationId,
      DISCORD_API_URL: fake.apiUrl,
      ...extra,
    };
  }

  it('registers the commands in one guild with --guild and prints them', async () => {
    const result = await runLifeboat(['discord', 'register', '--guild', fake.guildId, '--json'], {
      cwd,
      env: env(),
    });

    expect(result.code).toBe(0);
    const put = fake.calls.find((c) => c.method === 'PUT');
    expect(put?.path).toBe(`/applications/${fake.applicationId}/guilds/${fake.guildId}/commands`);
    expect(put?.authorization).toBe(`Bot ${token}`);
    const registered = fake.registered.get(fake.guildId) as Registered;
    expect(registered.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'backup',
        'restore',
        'approve',
        'reject',
        'approvals',
        'drill',
        'runbook',
        'status',
        'help',
      ]),
    );
    const backup = registered.find((c) => c.name === 'backup');
    expect(backup?.options.map((o) => o.name)).toEqual([
      'create',
      'list',
      'show',
      'verify',
      'prune',
    ]);
    const approve = registered.find((c) => c.name === 'approve');
    expect(approve?.options).toEqual([
      expect.objectContaining({ name: 'request', autocomplete: true, required: true }),
    ]);
    // With --json the listing goes to stderr, keeping stdout for the JSON line.
    expect(result.stderr).toContain(`in guild ${fake.guildId}`);
    expect(result.stderr).toContain('/backup create, list, show, verify, prune');
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '')).toMatchObject({
      status: 'ok',
      scope: `guild:${fake.guildId}`,
    });
    expect(result.stdout + result.stderr).not.toContain(token);
  });

  it('registers globally without --guild', async () => {
    const result = await runLifeboat(['discord', 'register'], { cwd, env: env() });

    expect(result.code).toBe(0);
    expect(fake.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /applications/${fake.applicationId}/commands`,
    ]);
    expect((fake.registered.get('global') as Registered).length).toBeGreaterThan(5);
    expect(result.stdout).toContain('globally');
  });

  it('names the missing variable, never a value, when half configured', async () => {
    const result = await runLifeboat(['discord', 'register', '--json'], {
      cwd,
      env: { DISCORD_TOKEN: token, DISCORD_API_URL: fake.apiUrl },
    });

    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain('DISCORD_APPLICATION_ID');
    expect(result.stdout + result.stderr).not.toContain(token);
    expect(fake.calls).toHaveLength(0);
  });

  it('refuses a guild id that is not a snowflake', async () => {
    const result = await runLifeboat(['discord', 'register', '--guild', 'my-server'], {
      cwd,
      env: env(),
    });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not a guild id');
    expect(fake.calls).toHaveLength(0);
  });
});
