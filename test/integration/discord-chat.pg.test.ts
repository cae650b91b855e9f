import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.ts';
import { freePort } from '../../src/core/free-port.ts';
import { databaseUrl, sql } from '../support/databases.ts';
import { FakeDiscord, type FakeMessage, screenText } from '../support/fake-discord.ts';
import { type RunningLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';
import { waitForWorker } from '../support/queues.ts';

/**
 * Lifeboat as a Discord bot end to end: the real `lifeboat start` (bot, worker, HTTP) with real
 * PostgreSQL and Redis, its REST calls going to a local fake Discord that also delivers signed
 * interactions to `/discord/interactions`. A backup typed as a slash command is deferred and its
 * result edits arrive; a production restore asked for by alice is approved by bob with a click,
 * and runs once even though Discord delivers the click twice.
 */

async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still not there after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Lifeboat on Discord', () => {
  let sandbox: LifeboatSandbox;
  let fake: FakeDiscord;
  let bot: RunningLifeboat;
  let url: string;

  const accounts = async () =>
    Number(
      (await sql<{ n: string }>('select count(*) as n from pgbench_accounts', sandbox.sourceDb))[0]
        ?.n,
    );
  const screen = () => screenText(fake.publicMessages());

  beforeAll(async () => {
    sandbox = await createSandbox('discord');
    fake = await FakeDiscord.start();
    const alice = fake.userId('alice');
    const bob = fake.userId('bob');
    await writeFile(
      join(sandbox.dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
targets:
  shop-db: { kind: postgres, url: "${databaseUrl(sandbox.sourceDb)}", environment: production }
profiles:
  db: { targets: [shop-db] }
roles:
  oncall: ["discord:${alice}", "discord:${bob}"]
  dba: ["discord:${bob}"]
policies:
  - { action: restore, environment: production, approvals: 1, approvers: [dba], expires: 30m }
`,
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}/discord/interactions`;
    bot = startLifeboat(['start'], {
      cwd: sandbox.dir,
      env: {
        ...sandbox.env,
        LIFEBOAT_HTTP_PORT: String(port),
        DISCORD_TOKEN: 'integration-bot-token',
        DISCORD_PUBLIC_KEY: fake.publicKeyHex,
        DISCORD_APPLICATION_ID: fake.applicationId,
        DISCORD_API_URL: fake.apiUrl,
      },
    });
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok,
      60_000,
      `the bot's HTTP server\n${bot.stderr()}`,
    );
    await waitForWorker(sandbox.queuePrefix);
  }, 120_000);

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await fake?.close();
    await sandbox?.remove();
  });

  it('defers /backup create and shows its result in the edited reply', async () => {
    const answer = await fake.deliver(
      url,
      fake.commandInteraction('alice', '/backup create', commands),
    );

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ type: 5 });
    await eventually(
      () => /completed/i.test(screen()) || undefined,
      90_000,
      `the backup result\n${screen()}`,
    );
    expect(screen()).toMatch(/bk_\d{8}T\d{6}Z_/);
    const edits = fake.calls.filter((c) => c.method === 'PATCH' && c.path.startsWith('/webhooks/'));
    expect(edits.length).toBeGreaterThan(0);
    for (const call of edits) expect(call.authorization).toBeUndefined();
  }, 120_000);

  it('runs a restore bob approves with a click once, though the click arrives twice', async () => {
    await sql('delete from pgbench_accounts where aid <= 1000', sandbox.sourceDb);
    const asked = await fake.deliver(
      url,
      fake.commandInteraction('alice', '/restore latest', commands),
    );
    expect(asked.status).toBe(200);

    const request = await eventually<FakeMessage>(
      () =>
        fake
          .publicMessages()
          .find((m) =>
            m.components.some((row) => row.components?.some((c) => c.label === 'Approve')),
          ),
      60_000,
      `the approval request\n${screen()}`,
    );
    const requestId = /apr_[A-Za-z0-9_-]+/.exec(screenText([request]))?.[0];
    expect(requestId).toBeDefined();
    const approve = request.components
      .flatMap((row) => row.components ?? [])
      .find((c) => c.label === 'Approve');
    expect(await accounts()).toBe(99_000);

    let click = fake.componentInteraction('bob', request.id, approve?.custom_id ?? '');
    let first = await fake.deliver(url, click);
    // An Approve that asks first shows bob a confirmation; his click on it is the approval.
    const question = fake.privateMessages('bob').findLast((m) => m.embeds[0]?.url);
    if (question) {
      const confirm = question.components[0]?.components?.[0]?.custom_id ?? '';
      click = fake.componentInteraction('bob', question.id, confirm);
      first = await fake.deliver(url, click);
    }
    const again = await fake.deliver(url, click);

    expect(first.status).toBe(200);
    expect(again.status).toBe(400);
    const restores = () =>
      sql<{ id: string; status: string }>(
        `select id, status from restores where authorized_by->>'request' = $1`,
        sandbox.catalogDb,
        [requestId],
      );
    const done = await eventually(
      async () => {
        const rows = await restores();
        return rows.some((r) => r.status === 'completed') ? rows : undefined;
      },
      90_000,
      `the approved restore\n${screen()}`,
    );
    expect(done).toHaveLength(1);
    expect(await accounts()).toBe(100_000);
    const votes = await sql<{ identity: string; action: string }>(
      `select identity, action from audit_log where request_id = $1 and action like 'approval.%' order by seq`,
      sandbox.catalogDb,
      [requestId],
    );
    expect(votes).toEqual(
      expect.arrayContaining([
        { identity: `discord:${fake.userId('alice')}`, action: 'approval.requested' },
        { identity: `discord:${fake.userId('bob')}`, action: 'approval.approved' },
      ]),
    );
  }, 180_000);
});
