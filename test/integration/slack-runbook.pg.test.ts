import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../src/core/free-port.ts';
import { sql } from '../support/databases.ts';
import { FakeSlack, formBody, postSigned } from '../support/fake-slack.ts';
import { type RunningLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

/**
 * A runbook run on Slack through the real bot (`lifeboat start`) and a fake Slack: the intro
 * opens a thread, each step is posted in it with buttons that carry the typed commands, a
 * second person passes the gate by clicking Approve, and the run's summary ends the thread.
 */

const SECRET = 'slack-runbook-test-signing-secret';
const ALICE = FakeSlack.userId('alice');
const CAROL = FakeSlack.userId('carol');
const WAIT = { timeout: 60_000, interval: 100 } as const;

const RUNBOOK = `---
title: Watched backup
description: A backup with a second engineer watching.
params:
  ticket:
    description: The incident ticket
---
Walk through a backup. <!channel> @everyone must not be pinged by this text.

## Prepare
- [ ] The team is told

## Second engineer
> [!APPROVAL] 1 from dba

## Back up
\`\`\`chatops
/backup create files --note {{ticket}}
\`\`\`
`;

interface ActionElement {
  type: string;
  action_id: string;
  value?: string;
}

/** Each posted message's newest version: its ts, thread and buttons. */
function posted(fake: FakeSlack) {
  return fake.messages.map((m) => {
    const latest = m.versions[m.versions.length - 1] ?? {};
    const blocks = (latest.blocks as { type: string; elements?: ActionElement[] }[]) ?? [];
    return {
      ts: m.ts,
      thread: m.threadTs,
      text: JSON.stringify(latest),
      buttons: blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []),
    };
  });
}

describe('a runbook run on Slack (HTTP mode, real app)', () => {
  let sandbox: LifeboatSandbox;
  let fake: FakeSlack;
  let bot: RunningLifeboat;
  let eventsUrl: string;

  const send = (user: string, text: string) =>
    postSigned(eventsUrl, formBody(fake.slashCommand(user, text)), { signingSecret: SECRET });
  const click = (
    user: string,
    message: { ts: string; thread?: string | undefined },
    actionId: string,
  ) =>
    postSigned(
      eventsUrl,
      formBody(
        fake.blockAction(
          user,
          {
            channel: 'C0OPS',
            messageId: message.ts,
            ...(message.thread ? { thread: message.thread } : {}),
          },
          { actionId },
        ),
        true,
      ),
      { signingSecret: SECRET },
    );

  beforeAll(async () => {
    sandbox = await createSandbox('slackrb');
    fake = await new FakeSlack().start();
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
  oncall: ["slack:${ALICE}"]
  dba: ["slack:${CAROL}"]
`,
    );
    const port = await freePort();
    eventsUrl = `http://127.0.0.1:${port}/slack/events`;
    bot = startLifeboat(['start'], {
      cwd: sandbox.dir,
      env: {
        ...sandbox.env,
        LIFEBOAT_HTTP_PORT: String(port),
        SLACK_BOT_TOKEN: 'xoxb-slack-runbook-test',
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_API_URL: fake.apiUrl,
      },
    });
    await vi.waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(response.status).toBe(200);
    }, WAIT);
  }, 120_000);

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await fake?.stop();
    if (sandbox) {
      const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
      try {
        const keys = await redis.keys(`${sandbox.queuePrefix}:delivery:*`);
        if (keys.length) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
      await sandbox.remove();
    }
  });

  it("opens a thread, posts each step in it with buttons, and goes past the gate on a second person's click", async () => {
    expect((await send(ALICE, '/runbook start watched ticket=INC-9')).status).toBe(200);
    const first = await vi.waitFor(() => {
      const step = posted(fake).find((m) => m.text.includes('Step 1/3: Prepare'));
      expect(step).toBeDefined();
      return step as NonNullable<typeof step>;
    }, WAIT);
    const intro = posted(fake).find((m) => m.text.includes('Runbook: Watched backup'));
    expect(intro?.thread).toBeUndefined();
    // The step is in the thread under the intro, and the runbook's text pings nobody.
    expect(first.thread).toBe(intro?.ts);
    expect(intro?.text).not.toMatch(/<!channel>|<!everyone>/);
    const runId = /run_\w+/.exec(first.text)?.[0];
    const ids = first.buttons.map((b) => b.action_id);
    expect(ids).toContain(`cmd:runbook check ${runId} 1 --step 1`);
    expect(ids).toContain(`cmd:runbook done ${runId} --step 1`);

    expect((await click(ALICE, first, `cmd:runbook check ${runId} 1 --step 1`)).status).toBe(200);
    await vi.waitFor(async () => {
      const [run] = await sql<{ state: { checked: number[] } }>(
        'select state from runbook_runs where id = $1',
        sandbox.catalogDb,
        [runId],
      );
      expect(run?.state.checked).toEqual([1]);
    }, WAIT);
    expect((await click(ALICE, first, `cmd:runbook done ${runId} --step 1`)).status).toBe(200);

    const approve = await vi.waitFor(() => {
      const found = posted(fake)
        .flatMap((m) => m.buttons.map((b) => ({ m, b })))
        .find(({ b }) => b.action_id.startsWith('cmd:approve apr_'));
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    }, WAIT);
    expect(approve.m.thread).toBe(intro?.ts);
    expect((await click(CAROL, approve.m, approve.b.action_id)).status).toBe(200);

    const third = await vi.waitFor(() => {
      const step = posted(fake).find((m) => m.text.includes('Step 3/3: Back up'));
      expect(step).toBeDefined();
      return step as NonNullable<typeof step>;
    }, WAIT);
    expect(third.thread).toBe(intro?.ts);
    expect(third.buttons.map((b) => b.action_id)).toContain(`cmd:runbook run ${runId} --step 3`);

    expect((await click(ALICE, third, `cmd:runbook run ${runId} --step 3`)).status).toBe(200);
    await vi.waitFor(() => {
      expect(posted(fake).some((m) => m.text.includes('Runbook Watched backup completed'))).toBe(
        true,
      );
    }, WAIT);
    const [backup] = await sql<{ requested_by: string }>(
      `select requested_by from backups where note = 'INC-9'`,
      sandbox.catalogDb,
    );
    expect(backup?.requested_by).toBe(`slack:${ALICE}`);
  }, 180_000);
});
