import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InboundEvent } from '../../src/chat/chat-adapter.ts';
import { calloutMessage } from '../../src/chat/message.ts';
import { FakeSlack, formBody, postSigned, slackSignature } from '../support/fake-slack.ts';
import {
  type SlackHarness,
  slackHarness,
  TEST_SIGNING_SECRET,
} from '../support/fake-slack-harness.ts';

const ALICE = FakeSlack.userId('alice');
const MALLORY = FakeSlack.userId('mallory');

/** A harness whose handler records every event (and may answer through `onEvent`). */
async function started(
  mode: 'http' | 'socket',
  options: Parameters<typeof slackHarness>[1] = {},
  onEvent: (event: InboundEvent) => Promise<void> = async () => undefined,
  prepare?: Parameters<typeof slackHarness>[2],
) {
  const harness = await slackHarness(mode, options, prepare);
  const events: InboundEvent[] = [];
  await harness.adapter.start(async (event) => {
    events.push(event);
    await onEvent(event);
  });
  return { harness, events };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe('Slack requests the adapter refuses (HTTP mode)', () => {
  let harness: SlackHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  const post = (body: string, options: Partial<Parameters<typeof postSigned>[2]> = {}) => {
    if (!harness) throw new Error('no harness');
    return postSigned(harness.eventsUrl, body, { signingSecret: TEST_SIGNING_SECRET, ...options });
  };

  it('refuses a forged signature with 401, runs nothing and audits the named user', async () => {
    const run = await started('http');
    harness = run.harness;
    const body = formBody(run.harness.fake.slashCommand(MALLORY, '/restore latest'));

    const answer = await post(body, { signature: slackSignature('not-the-secret', 1, body) });
    await settle();

    expect(answer.status).toBe(401);
    expect(answer.text).toContain('signature');
    expect(run.events).toEqual([]);
    await vi.waitFor(() =>
      expect(run.harness.audit.log).toEqual([
        expect.objectContaining({
          identity: `slack:${MALLORY}`,
          action: 'chat.refused',
          outcome: 'refused',
          command: '/restore latest',
        }),
      ]),
    );
  });

  it('refuses a correctly signed request older than 5 minutes with 401', async () => {
    const run = await started('http');
    harness = run.harness;
    const body = formBody(run.harness.fake.slashCommand(ALICE, '/backup create full'));
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;

    const answer = await post(body, { timestamp: sixMinutesAgo });
    await settle();

    expect(answer.status).toBe(401);
    expect(answer.text).toContain('5 minutes');
    expect(run.events).toEqual([]);
    await vi.waitFor(() => expect(run.harness.audit.log[0]?.detail).toMatchObject({ status: 401 }));
  });

  it('refuses an unsigned request with 401', async () => {
    const run = await started('http');
    harness = run.harness;
    const response = await fetch(run.harness.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody(run.harness.fake.slashCommand(ALICE, '/status')),
    });
    await settle();

    expect(response.status).toBe(401);
    expect(run.events).toEqual([]);
  });

  it('answers a retried delivery 200 and runs it once', async () => {
    const run = await started('http');
    harness = run.harness;
    const body = formBody(run.harness.fake.slashCommand(ALICE, '/backup create full'));

    const first = await post(body);
    const retry = await post(body, { retryNum: 1 });
    const replay = await post(body);
    await settle();

    expect([first.status, retry.status, replay.status]).toEqual([200, 200, 200]);
    expect(run.events).toHaveLength(1);
  });

  it('runs a click delivered twice once', async () => {
    const run = await started('http');
    harness = run.harness;
    const click = run.harness.fake.blockAction(
      ALICE,
      { channel: 'C0OPS', messageId: '1765000000.000001' },
      { actionId: 'cmd:approve apr_1', value: 'apr_1' },
    );

    await post(formBody(click, true));
    await post(formBody(click, true), { retryNum: 1 });
    await settle();

    expect(run.events).toHaveLength(1);
  });

  it.each([
    ['a payload that is not JSON', 'payload=%7Bnot-json'],
    ['a payload that is not an object', `payload=${encodeURIComponent('[1,2]')}`],
    [
      'a command without a user',
      formBody({ command: '/status', text: '', channel_id: 'C0OPS', trigger_id: 't1' }),
    ],
    ['an event type that is not a command or a click', formBody({ type: 'view_submission' }, true)],
    [
      'a click without a user',
      formBody(
        {
          type: 'block_actions',
          channel: { id: 'C0OPS' },
          actions: [{ action_id: 'cmd:status' }],
          trigger_id: 't2',
        },
        true,
      ),
    ],
  ])('refuses %s with 400 and runs nothing', async (_what, body) => {
    const run = await started('http');
    harness = run.harness;

    const answer = await post(body);
    await settle();

    expect(answer.status).toBe(400);
    expect(answer.text.length).toBeGreaterThan(0);
    expect(run.events).toEqual([]);
  });

  it('answers Slack’s certificate check 200 and runs nothing', async () => {
    const run = await started('http');
    harness = run.harness;

    const answer = await post(formBody({ ssl_check: '1', token: 'legacy' }));

    expect(answer.status).toBe(200);
    expect(run.events).toEqual([]);
    expect(run.harness.audit.log).toEqual([]);
  });

  it('refuses a JSON body (a signed Events API call) with 400', async () => {
    const run = await started('http');
    harness = run.harness;

    const answer = await post(JSON.stringify({ type: 'event_callback' }), {
      contentType: 'application/json',
    });

    expect(answer.status).toBe(400);
    expect(run.events).toEqual([]);
  });

  it('refuses a request from another workspace than SLACK_TEAM_ID with 401 and audits it', async () => {
    const run = await started('http', { teamId: 'T0LIFEBOAT' });
    harness = run.harness;
    const body = formBody(
      run.harness.fake.slashCommand(MALLORY, '/restore latest', { teamId: 'T0OTHER' }),
    );

    const answer = await post(body);
    const ours = await post(formBody(run.harness.fake.slashCommand(ALICE, '/status')));
    await settle();

    expect(answer.status).toBe(401);
    expect(ours.status).toBe(200);
    expect(run.events.map((e) => e.identity.id)).toEqual([ALICE]);
    await vi.waitFor(() =>
      expect(run.harness.audit.log).toEqual([
        expect.objectContaining({ identity: `slack:${MALLORY}`, action: 'chat.refused' }),
      ]),
    );
  });

  it('answers an unknown slash command privately, naming the valid ones, and runs nothing', async () => {
    const run = await started('http');
    harness = run.harness;

    const answer = await post(formBody(run.harness.fake.slashCommand(ALICE, '/deploy prod')));

    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer.json?.text)).toMatch(/\/deploy is not a Lifeboat command.*\/backup/);
    expect(run.events).toEqual([]);
  });
});

describe('Slack events the adapter delivers', () => {
  let harness: SlackHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('attributes a click to the payload’s user, with the button’s value and message', async () => {
    const run = await started('http');
    harness = run.harness;
    await run.harness.click(
      'bob',
      { channel: 'C0OPS', thread: '1765000000.000001', messageId: '1765000000.000002' },
      { actionId: 'cmd:approve apr_9', label: 'Approve', value: 'slack:UALICE' },
    );

    await vi.waitFor(() => expect(run.events).toHaveLength(1));
    expect(run.events[0]).toMatchObject({
      kind: 'action',
      identity: { platform: 'slack', id: FakeSlack.userId('bob') },
      actionId: 'cmd:approve apr_9',
      value: 'slack:UALICE',
      channel: { channel: 'C0OPS', thread: '1765000000.000001' },
      message: { channel: 'C0OPS', messageId: '1765000000.000002' },
    });
  });

  it.each(['http', 'socket'] as const)(
    'answers privately in the acknowledgement, then through the response URL (%s)',
    async (mode) => {
      const run = await started(mode, {}, async (event) => {
        await event.ack.replyPrivately(calloutMessage('warning', 'first <!channel>'));
        await event.ack.replyPrivately(calloutMessage('danger', 'second'));
      });
      harness = run.harness;

      await run.harness.send('alice', '/status');

      await vi.waitFor(async () => {
        const seen = await run.harness.seenPrivately('alice');
        expect(seen).toContain('first <!channel>');
        expect(seen).toContain('second');
      });
      expect(run.harness.answers[0]?.body).toMatchObject({ response_type: 'ephemeral' });
      expect(JSON.stringify(run.harness.answers[0]?.body)).toContain('&lt;!channel&gt;');
      expect(run.harness.fake.callsOf('response_url')).toHaveLength(1);
      expect(await run.harness.seen()).toBe('');
    },
  );

  it('answers privately with chat.postEphemeral once the response URL has expired', async () => {
    const run = await started('http', {}, async (event) => {
      await event.ack.accept();
      await event.ack.replyPrivately(calloutMessage('danger', 'restore failed'));
    });
    harness = run.harness;
    run.harness.fake.responseUrlsExpired = true;

    await run.harness.send('alice', '/status');

    await vi.waitFor(() =>
      expect(run.harness.fake.callsOf('chat.postEphemeral')).toEqual([
        expect.objectContaining({
          params: expect.objectContaining({ channel: 'C0OPS', user: ALICE }),
        }),
      ]),
    );
    expect(await run.harness.seenPrivately('alice')).toContain('restore failed');
    expect(await run.harness.seen()).toBe('');
  });

  it('does not run a command that reached it after Slack’s window, and tells its sender', async () => {
    // Bolt holds every request until `auth.test` answers; here that takes longer than the
    // window (shortened for the test), so Slack has already reported the command as failed.
    const run = await started('http', { windowMs: 300 }, undefined, (fake) =>
      fake.delay('auth.test', 700),
    );
    harness = run.harness;

    await run.harness.send('alice', '/backup create full');

    expect(run.harness.answers).toEqual([{ status: 404 }]);
    await vi.waitFor(async () => {
      expect(await run.harness.seenPrivately('alice')).toContain(
        'did not run it and nothing changed',
      );
    });
    expect(run.events).toEqual([]);
  });

  it('acknowledges at the deadline when the handler is slow', async () => {
    let release: () => void = () => undefined;
    const run = await started('http', { ackDeadlineMs: 100 }, () => {
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    harness = run.harness;

    await run.harness.send('alice', '/backup create full');

    expect(run.harness.answers).toEqual([{ status: 200 }]);
    expect(run.events[0]?.ack.acknowledged).toBe(true);
    release();
  });

  it('runs a Socket Mode envelope Slack sends again once, and skips one without a user', async () => {
    const run = await started('socket');
    harness = run.harness;
    await run.harness.fake.connected();
    const command = run.harness.fake.slashCommand(ALICE, '/status');

    const first = await run.harness.fake.sendEnvelope('slash_commands', command);
    const again = await run.harness.fake.sendEnvelope('slash_commands', command, 1);
    const { user_id: _drop, ...anonymous } = run.harness.fake.slashCommand(ALICE, '/status');
    const nobody = await run.harness.fake.sendEnvelope('slash_commands', anonymous);
    await settle();

    expect(first).toBeDefined();
    expect(again).toBeDefined();
    expect(nobody).toBeDefined();
    expect(run.events).toHaveLength(1);
  });

  it('skips a Socket Mode envelope from another workspace than SLACK_TEAM_ID, and audits it', async () => {
    const run = await started('socket', { teamId: 'T0LIFEBOAT' });
    harness = run.harness;
    await run.harness.fake.connected();

    const foreign = await run.harness.fake.sendEnvelope(
      'slash_commands',
      run.harness.fake.slashCommand(MALLORY, '/restore latest', { teamId: 'T0OTHER' }),
    );
    await run.harness.send('alice', '/status');
    await settle();

    expect(foreign).toBeDefined();
    expect(run.events.map((e) => e.identity.id)).toEqual([ALICE]);
    await vi.waitFor(() =>
      expect(run.harness.audit.log).toEqual([
        expect.objectContaining({ identity: `slack:${MALLORY}`, action: 'chat.refused' }),
      ]),
    );
  });
});
