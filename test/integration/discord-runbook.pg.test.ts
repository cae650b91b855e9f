import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.ts';
import { freePort } from '../../src/core/free-port.ts';
import { sql } from '../support/databases.ts';
import { FakeDiscord, type FakeMessage, screenText } from '../support/fake-discord.ts';
import { type RunningLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';
import { waitForWorker } from '../support/queues.ts';

/**
 * A runbook run on Discord through the real bot (`lifeboat start`) and a fake Discord: the
 * intro opens a thread, each step is posted in it with buttons that carry the typed commands,
 * and a second person passes the gate by clicking Approve.
 */

const RUNBOOK = `---
title: Watched backup
description: A backup with a second engineer watching.
params:
  ticket:
    description: The incident ticket
---
Walk through a backup. @everyone must not be pinged by this text.

## Prepare
- [ ] The team is told

## Second engineer
> [!APPROVAL] 1 from dba

## Back up
\`\`\`chatops
/backup create files --note {{ticket}}
\`\`\`
`;

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

const buttonsOf = (m: FakeMessage) => m.components.flatMap((row) => row.components ?? []);

describe('a runbook run on Discord', () => {
  let sandbox: LifeboatSandbox;
  let fake: FakeDiscord;
  let bot: RunningLifeboat;
  let url: string;
  const screen = () => screenText(fake.publicMessages());
  const find = (text: string) =>
    eventually(
      () => fake.publicMessages().find((m) => screenText([m]).includes(text)),
      60_000,
      `${text}\n${screen()}`,
    );
  /** Clicks a button; an Approve that asks first is confirmed. */
  const click = async (user: string, message: FakeMessage, customId: string) => {
    const answer = await fake.deliver(url, fake.componentInteraction(user, message.id, customId));
    expect(answer.status).toBe(200);
  };

  beforeAll(async () => {
    sandbox = await createSandbox('discordrb');
    fake = await FakeDiscord.start();
    await mkdir(join(sandbox.dir, 'files'));
    await mkdir(join(sandbox.dir, 'runbooks'));
    await writeFile(join(sandbox.dir, 'files/a.txt'), 'alpha\n');
    await writeFile(join(sandbox.dir, 'runbooks/watched.md'), RUNBOOK);
    await writeFile(
      join(sandbox.dir, 'lifeboat.yaml'),
      `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  files: { targets: [files] }
roles:
  oncall: ["discord:${fake.userId('alice')}"]
  dba: ["discord:${fake.userId('bob')}"]
`,
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}/discord/interactions`;
    bot = startLifeboat(['start'], {
      cwd: sandbox.dir,
      env: {
        ...sandbox.env,
        LIFEBOAT_HTTP_PORT: String(port),
        DISCORD_TOKEN: 'runbook-bot-token',
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

  it("opens a thread with the steps and their buttons, and goes past the gate on bob's click", async () => {
    const asked = await fake.deliver(
      url,
      fake.commandInteraction('alice', '/runbook start watched ticket=INC-10', commands),
    );
    expect(asked.status).toBe(200);
    const first = await find('Step 1/3: Prepare');
    const thread = fake.threads[0];
    expect(thread).toBeDefined();
    expect(first.channelId).toBe(thread?.id);
    const runId = /run_\w+/.exec(screenText([first]))?.[0];
    const tick = buttonsOf(first).find(
      (b) => b.custom_id === `cmd:runbook check ${runId} 1 --step 1`,
    );
    expect(tick).toBeDefined();
    // Runbook text reaches Discord without pinging anyone.
    for (const m of fake.publicMessages())
      expect(JSON.stringify(m.allowedMentions ?? {})).not.toContain('everyone');

    await click('alice', first, tick?.custom_id ?? '');
    await eventually(
      async () => {
        const [run] = await sql<{ checked: number[] }>(
          `select state->'checked' as checked from runbook_runs where id = $1`,
          sandbox.catalogDb,
          [runId],
        );
        return run?.checked?.length === 1 || undefined;
      },
      60_000,
      'the tick',
    );
    await click('alice', first, `cmd:runbook done ${runId} --step 1`);

    const request = await eventually(
      () =>
        fake
          .publicMessages()
          .find((m) => buttonsOf(m).some((b) => b.custom_id?.startsWith('cmd:approve apr_'))),
      60_000,
      `the gate's request\n${screen()}`,
    );
    expect(request.channelId).toBe(thread?.id);
    const approve = buttonsOf(request).find((b) => b.custom_id?.startsWith('cmd:approve apr_'));
    await click('bob', request, approve?.custom_id ?? '');
    const question = fake.privateMessages('bob').findLast((m) => m.embeds[0]?.url);
    if (question) {
      await click('bob', question, question.components[0]?.components?.[0]?.custom_id ?? '');
    }
    const third = await find('Step 3/3: Back up');
    expect(third.channelId).toBe(thread?.id);
    expect(buttonsOf(third).map((b) => b.custom_id)).toContain(`cmd:runbook run ${runId} --step 3`);
  }, 180_000);
});
