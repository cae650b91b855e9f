import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../src/core/free-port.ts';
import { databaseUrl, sql } from '../support/databases.ts';
import { FakeSlack, formBody, postSigned } from '../support/fake-slack.ts';
import { type RunningLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { createSandbox, type LifeboatSandbox } from '../support/lifeboat-sandbox.ts';

/**
 * The real bot (`lifeboat start`: bot, worker and HTTP server in one process, with real
 * Postgres, Redis, pg_dump and pg_restore) serving Slack in HTTP mode against a fake Slack:
 * signed slash commands and clicks come in at /slack/events, Block Kit messages go out.
 */

const SECRET = 'slack-bot-test-signing-secret';
const ALICE = FakeSlack.userId('alice');
const CAROL = FakeSlack.userId('carol');
const WAIT = { timeout: 60_000, interval: 100 } as const;

interface ActionElement {
  type: string;
  action_id: string;
  value?: string;
}

/** The buttons of every version of every message the bot posted. */
function buttonsIn(fake: FakeSlack): { ts: string; actionId: string; value?: string }[] {
  return fake.messages.flatMap((m) =>
    m.versions.flatMap((v) =>
      ((v.blocks as { type: string; elements?: ActionElement[] }[] | undefined) ?? [])
        .filter((b) => b.type === 'actions')
        .flatMap((b) => b.elements ?? [])
        .map((e) => ({
          ts: m.ts,
          actionId: e.action_id,
          ...(e.value !== undefined ? { value: e.value } : {}),
        })),
    ),
  );
}

describe('the bot on Slack (HTTP mode, real app)', () => {
  let sandbox: LifeboatSandbox;
  let fake: FakeSlack;
  let bot: RunningLifeboat;
  let eventsUrl: string;

  const send = (user: string, text: string) =>
    postSigned(eventsUrl, formBody(fake.slashCommand(user, text)), { signingSecret: SECRET });
  const accounts = async () =>
    Number(
      (await sql<{ n: string }>('select count(*) as n from pgbench_accounts', sandbox.sourceDb))[0]
        ?.n,
    );
  const restoresFor = (request: string) =>
    sql<{ id: string; status: string }>(
      `select id, status from restores where authorized_by->>'request' = $1`,
      sandbox.catalogDb,
      [request],
    );

  beforeAll(async () => {
    sandbox = await createSandbox('slackbot');
    fake = await new FakeSlack().start();
    await writeFile(
      join(sandbox.dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
targets:
  shop-db: { kind: postgres, url: "${databaseUrl(sandbox.sourceDb)}", environment: production }
profiles:
  db: { targets: [shop-db] }
roles:
  oncall: ["slack:${ALICE}"]
  dba: ["slack:${CAROL}"]
policies:
  - { action: restore, environment: production, approvals: 1, approvers: [dba], expires: 30m }
`,
    );
    const port = await freePort();
    eventsUrl = `http://127.0.0.1:${port}/slack/events`;
    bot = startLifeboat(['start'], {
      cwd: sandbox.dir,
      env: {
        ...sandbox.env,
        LIFEBOAT_HTTP_PORT: String(port),
        SLACK_BOT_TOKEN: 'xoxb-slack-bot-test',
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

  it('acknowledges a signed /backup create, posts the backup and updates it to completed', async () => {
    const answer = await send(ALICE, '/backup create --note "before deploy"');

    expect(answer.status).toBe(200);
    await vi.waitFor(() => {
      expect(fake.callsOf('chat.postMessage').length).toBeGreaterThan(0);
      expect(fake.screen()).toMatch(/completed/i);
    }, WAIT);
    const post = fake.callsOf('chat.postMessage')[0];
    expect(post?.params.channel).toBe('C0OPS');
    expect(fake.callsOf('chat.update').length).toBeGreaterThan(0);
    expect(fake.screen()).toContain('bk_');
  }, 90_000);

  it('runs a production restore approved by a second Slack user once, however often the click arrives', async () => {
    await sql('delete from pgbench_accounts where aid <= 1000', sandbox.sourceDb);
    const before = fake.messages.length;

    expect((await send(ALICE, '/restore latest')).status).toBe(200);
    const approve = await vi.waitFor(() => {
      const found = buttonsIn(fake).find((b) => b.actionId.startsWith('cmd:approve apr_'));
      expect(found).toBeDefined();
      return found as NonNullable<typeof found>;
    }, WAIT);
    expect(fake.messages.length).toBeGreaterThan(before);
    const request = approve.actionId.slice('cmd:approve '.length);
    expect(await restoresFor(request)).toEqual([]);

    // The requester cannot approve her own request by clicking.
    const own = fake.blockAction(ALICE, { channel: 'C0OPS', messageId: approve.ts }, approve);
    expect(
      (await postSigned(eventsUrl, formBody(own, true), { signingSecret: SECRET })).status,
    ).toBe(200);

    // Carol clicks: Slack delivers the click again (X-Slack-Retry-Num), and she double-clicks.
    const click = fake.blockAction(CAROL, { channel: 'C0OPS', messageId: approve.ts }, approve);
    const doubleClick = fake.blockAction(
      CAROL,
      { channel: 'C0OPS', messageId: approve.ts },
      approve,
    );
    const answers = await Promise.all([
      postSigned(eventsUrl, formBody(click, true), { signingSecret: SECRET }),
      postSigned(eventsUrl, formBody(click, true), { signingSecret: SECRET, retryNum: 1 }),
      postSigned(eventsUrl, formBody(doubleClick, true), { signingSecret: SECRET }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);

    await vi.waitFor(async () => {
      const restores = await restoresFor(request);
      expect(restores).toHaveLength(1);
      expect(restores[0]?.status).toBe('completed');
    }, WAIT);
    expect(await accounts()).toBe(100_000);

    const votes = await sql<{ identity: string }>(
      'select identity from approval_votes where request_id = $1',
      sandbox.catalogDb,
      [request],
    );
    expect(votes.map((v) => v.identity)).toEqual([`slack:${CAROL}`]);
    const audited = await sql<{ action: string; identity: string }>(
      'select action, identity from audit_log where request_id = $1 order by seq',
      sandbox.catalogDb,
      [request],
    );
    const actions = audited.map((e) => `${e.action} ${e.identity}`);
    expect(actions).toContain(`approval.requested slack:${ALICE}`);
    expect(actions).toContain(`approval.refused slack:${ALICE}`);
    expect(actions).toContain(`approval.approved slack:${CAROL}`);
    expect(actions.filter((a) => a.startsWith('approval.executed'))).toHaveLength(1);
    // Alice was told why (in the channel today; privately once the dispatcher answers so).
    await vi.waitFor(
      () =>
        expect(`${fake.screen()}\n${fake.privateScreen(ALICE)}`).toMatch(
          /own request|second person/i,
        ),
      WAIT,
    );
  }, 120_000);

  it('never writes the Slack token or signing secret to its logs', async () => {
    // A refused request and the work above all logged something.
    await postSigned(eventsUrl, formBody(fake.slashCommand(ALICE, '/status')), {
      signingSecret: 'wrong-secret',
    });
    await vi.waitFor(() => expect(bot.stdout()).toContain('slack: request refused'), WAIT);
    const logs = `${bot.stdout()}\n${bot.stderr()}`;
    expect(logs).not.toContain('xoxb-slack-bot-test');
    expect(logs).not.toContain(SECRET);
  });
});
