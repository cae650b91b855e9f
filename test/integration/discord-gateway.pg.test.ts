import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.ts';
import { freePort } from '../../src/core/free-port.ts';
import { databaseUrl } from '../support/databases.ts';
import { FakeDiscord, screenText } from '../support/fake-discord.ts';
import { type RunningLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

/**
 * `lifeboat bot` with `DISCORD_TOKEN` alone connects to the gateway (no public URL): it fetches
 * the gateway URL over REST, identifies, and answers an interaction dispatched on the socket
 * through the interaction's callback and webhook.
 */
describe('Lifeboat on the Discord gateway', () => {
  let sandbox: LifeboatSandbox;
  let fake: FakeDiscord;
  let bot: RunningLifeboat;

  beforeAll(async () => {
    sandbox = await createSandbox('discordgw');
    fake = await FakeDiscord.start();
    await writeFile(
      join(sandbox.dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
targets:
  shop-db: { kind: postgres, url: "${databaseUrl(sandbox.sourceDb)}" }
profiles:
  db: { targets: [shop-db] }
`,
    );
    bot = startLifeboat(['bot'], {
      cwd: sandbox.dir,
      env: {
        ...sandbox.env,
        LIFEBOAT_HTTP_PORT: String(await freePort()),
        DISCORD_TOKEN: 'gateway-bot-token',
        DISCORD_API_URL: fake.apiUrl,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await fake?.close();
    await sandbox?.remove();
  });

  it('identifies on the gateway and answers a command sent over it', async () => {
    await fake.gatewayReady();
    expect(fake.calls.some((c) => c.method === 'GET' && c.path === '/gateway/bot')).toBe(true);

    const interaction = fake.commandInteraction('alice', '/backup create nope', commands);
    fake.dispatch(interaction);

    const deadline = Date.now() + 60_000;
    while (!/nope/.test(screenText([...fake.messages.values()])) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(fake.answered(interaction)).toBe(true);
    const callback = fake.calls.find((c) => c.path.endsWith(`/${interaction.token}/callback`));
    expect(callback?.authorization).toBeUndefined();
    expect(screenText([...fake.messages.values()])).toMatch(/nope/);
    expect(screenText([...fake.messages.values()])).toContain('db');
  }, 120_000);
});
