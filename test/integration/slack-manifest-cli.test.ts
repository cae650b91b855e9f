import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLifeboat } from '../support/lifeboat-process.ts';

describe('lifeboat slack manifest (the real command)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-slack-manifest-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a JSON manifest needing no database, config or token', async () => {
    const result = await runLifeboat(['slack', 'manifest', '--url', 'https://bot.example.com'], {
      cwd: dir,
      env: {},
    });

    expect(result.code).toBe(0);
    const manifest = JSON.parse(result.stdout) as {
      features: { slash_commands: { command: string; url: string }[] };
    };
    expect(manifest.features.slash_commands.map((c) => c.command)).toContain('/restore');
    expect(manifest.features.slash_commands[0]?.url).toBe('https://bot.example.com/slack/events');
  });

  it('says what it takes when misused', async () => {
    const result = await runLifeboat(['slack', 'manifest', '--bogus'], { cwd: dir, env: {} });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('slack manifest [--url https://HOST] [--socket]');
  });
});
