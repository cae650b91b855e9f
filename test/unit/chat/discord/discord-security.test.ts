import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commands } from '../../../../commands/index.ts';
import type { InboundEvent } from '../../../../src/chat/chat-adapter.ts';
import { memoryDeliveryLedger } from '../../../../src/chat/delivery-ledger.ts';
import { InMemoryAudit } from '../../../doubles/in-memory-audit.ts';
import {
  type DiscordHarness,
  startDiscordHarness,
  TEST_BOT_TOKEN,
} from '../../../support/fake-discord-harness.ts';

describe('Discord interactions endpoint', () => {
  let harness: DiscordHarness;
  let events: InboundEvent[];
  const audit = new InMemoryAudit();

  async function start(options: Partial<Parameters<typeof startDiscordHarness>[0]> = {}) {
    harness = await startDiscordHarness({ mode: 'http', audit, ...options });
    events = [];
    await harness.adapter.start(async (event) => {
      events.push(event);
    });
  }

  afterEach(async () => {
    await harness.close();
  });

  it('answers a PING with a PONG and runs nothing', async () => {
    await start();
    const ping = {
      id: '1',
      application_id: harness.fake.applicationId,
      type: 1,
      token: 'ping',
      version: 1,
    };
    const answer = await harness.fake.deliver(harness.url, ping);

    expect(answer).toEqual({ status: 200, body: { type: 1 } });
    expect(events).toHaveLength(0);
  });

  it('refuses a request signed with another key with 401 and never calls the handler', async () => {
    await start();
    const forger = generateKeyPairSync('ed25519').privateKey;
    const payload = harness.fake.commandInteraction('mallory', '/backup create full', commands);
    const answer = await harness.fake.deliver(harness.url, payload, { key: forger });

    expect(answer.status).toBe(401);
    expect(events).toHaveLength(0);
    expect(harness.fake.calls).toHaveLength(0);
  });

  it('refuses a correctly signed request whose timestamp is stale', async () => {
    await start();
    const payload = harness.fake.commandInteraction('alice', '/backup create full', commands);
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 10 * 60;
    const answer = await harness.fake.deliver(harness.url, payload, { timestamp: tenMinutesAgo });

    expect(answer.status).toBe(401);
    expect(JSON.stringify(answer.body)).toContain('stale');
    expect(events).toHaveLength(0);
  });

  it('refuses a request without signature headers', async () => {
    await start();
    const payload = harness.fake.commandInteraction('alice', '/status', commands);
    const res = await fetch(harness.url, { method: 'POST', body: JSON.stringify(payload) });

    expect(res.status).toBe(401);
    expect(events).toHaveLength(0);
  });

  it('refuses a body changed after it was signed', async () => {
    await start();
    const payload = harness.fake.commandInteraction('alice', '/status', commands);
    const { headers, body } = harness.fake.signed(payload);
    const res = await fetch(harness.url, {
      method: 'POST',
      headers,
      body: body.replace('/status', '/staTus').replace('"status"', '"restore"'),
    });

    expect(res.status).toBe(401);
    expect(events).toHaveLength(0);
  });

  it('runs an interaction delivered twice once, refuses the replay with 400 and audits it', async () => {
    await start();
    const payload = harness.fake.commandInteraction('alice', '/backup create full', commands);
    const first = await harness.fake.deliver(harness.url, payload);
    const again = await harness.fake.deliver(harness.url, payload);

    expect(first.status).toBe(200);
    expect(again.status).toBe(400);
    expect(JSON.stringify(again.body)).toContain('replayed');
    expect(events).toHaveLength(1);
    const refusal = audit.log.find((e) => e.action === 'chat.refused');
    expect(refusal).toMatchObject({
      identity: `discord:${harness.fake.userId('alice')}`,
      platform: 'discord',
      outcome: 'refused',
      detail: expect.objectContaining({ reason: 'replayed' }),
    });
  });

  it('runs an interaction once when two replicas sharing a ledger both receive it', async () => {
    const ledger = memoryDeliveryLedger();
    await start({ ledger });
    const other = await startDiscordHarness({ mode: 'http', ledger, fake: harness.fake });
    const otherEvents: InboundEvent[] = [];
    await other.adapter.start(async (event) => {
      otherEvents.push(event);
    });
    try {
      const payload = harness.fake.commandInteraction('alice', '/backup create full', commands);
      const answers = await Promise.all([
        harness.fake.deliver(harness.url, payload),
        harness.fake.deliver(other.url, payload),
      ]);

      expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
      expect(events.length + otherEvents.length).toBe(1);
    } finally {
      await other.close();
    }
  });

  it.each([
    ['is not JSON', '{"type": 2,'],
    ['lacks the interaction id and token', JSON.stringify({ type: 2, data: { name: 'status' } })],
    [
      'has a malformed user id',
      JSON.stringify({ id: '5', application_id: '6', type: 2, token: 't', user: { id: 'bob' } }),
    ],
  ])('answers 400 to a signed body that %s, and runs nothing', async (_, body) => {
    await start();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await fetch(harness.url, {
      method: 'POST',
      headers: harness.fake.signRaw(timestamp, body),
      body,
    });

    expect(res.status).toBe(400);
    expect(events).toHaveLength(0);
  });

  it('answers 400 to an interaction that names no user', async () => {
    await start();
    const payload: Record<string, unknown> = harness.fake.commandInteraction(
      'alice',
      '/status',
      commands,
    );
    delete payload.member;
    const answer = await harness.fake.deliver(harness.url, payload);

    expect(answer.status).toBe(400);
    expect(events).toHaveLength(0);
  });

  it('answers 400 to a click on a button it did not make', async () => {
    await start();
    const ref = await harness.adapter.post(
      { channel: harness.fake.channelId },
      { text: 'x', blocks: [] },
    );
    const answer = await harness.fake.deliver(
      harness.url,
      harness.fake.componentInteraction('alice', ref.messageId, '~zforged'),
    );

    expect(answer.status).toBe(400);
    expect(events).toHaveLength(0);
  });

  it('never answers a refused interaction from the gateway, even after the deadline', async () => {
    harness = await startDiscordHarness({ mode: 'gateway', audit, ackDeadlineMs: 20 });
    events = [];
    await harness.adapter.start(async (event) => {
      events.push(event);
    });
    await harness.fake.gatewayReady();
    const ref = await harness.adapter.post(
      { channel: harness.fake.channelId },
      { text: 'x', blocks: [] },
    );
    const forged = harness.fake.componentInteraction('alice', ref.messageId, '~zforged');
    harness.fake.dispatch(forged);
    await harness.send('alice', '/status');

    await vi.waitFor(() => expect(events).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(harness.fake.answered(forged)).toBe(false);
    expect(harness.fake.calls.some((c) => c.path.includes(forged.token))).toBe(false);
  });

  it('sends the bot token only in the Authorization header of bot-token calls', async () => {
    await start();
    await harness.adapter.post({ channel: harness.fake.channelId }, { text: 'hello', blocks: [] });
    await harness.send('alice', '/status');
    await harness.acknowledged();

    const botCalls = harness.fake.calls.filter((c) => c.path.startsWith('/channels/'));
    expect(botCalls[0]?.authorization).toBe(`Bot ${TEST_BOT_TOKEN}`);
    const interactionCalls = harness.fake.calls.filter((c) => !c.path.startsWith('/channels/'));
    for (const call of interactionCalls) expect(call.authorization).toBeUndefined();
    expect(JSON.stringify(harness.fake.calls.map((c) => c.body))).not.toContain(TEST_BOT_TOKEN);
  });
});
