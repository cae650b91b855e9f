import { afterEach, describe, expect, it, vi } from 'vitest';
import { commands } from '../../../../commands/index.ts';
import type { InboundEvent } from '../../../../src/chat/chat-adapter.ts';
import { packCustomId } from '../../../../src/chat/discord/custom-id.ts';
import { INTERACTION_TOKEN_MS } from '../../../../src/chat/discord/discord-adapter.ts';
import type { ChatMessage } from '../../../../src/chat/message.ts';
import { screenText } from '../../../support/fake-discord.ts';
import { type DiscordHarness, startDiscordHarness } from '../../../support/fake-discord-harness.ts';

const restoreButtons: ChatMessage = {
  text: 'Restore needs approval',
  blocks: [
    { type: 'header', text: 'Restore of app-db needs approval' },
    {
      type: 'buttons',
      buttons: [
        {
          actionId: 'approve',
          value: 'apr_1',
          label: 'Approve',
          style: 'primary',
          confirm: {
            title: 'Restore app-db?',
            text: 'It overwrites production.',
            confirm: 'Restore now',
          },
        },
      ],
    },
  ],
};

function progress(n: number): ChatMessage {
  return { text: `step ${n}`, blocks: [{ type: 'section', text: `step ${n} of 30` }] };
}

describe('DiscordAdapter', () => {
  let harness: DiscordHarness;
  let events: InboundEvent[];
  let clock = Date.now();

  async function start(
    handler: (event: InboundEvent) => Promise<void> = async () => undefined,
    options: Partial<Parameters<typeof startDiscordHarness>[0]> = {},
  ) {
    clock = Date.now();
    harness = await startDiscordHarness({ mode: 'http', now: () => clock, ...options });
    events = [];
    await harness.adapter.start(async (event) => {
      events.push(event);
      await handler(event);
    });
  }

  afterEach(async () => {
    await harness.close();
  });

  it('asks the clicker privately before a confirmable click, and runs only the confirming click', async () => {
    await start();
    const channel = { channel: harness.fake.channelId };
    const ref = await harness.adapter.post(channel, restoreButtons);
    const button =
      restoreButtons.blocks[1]?.type === 'buttons'
        ? restoreButtons.blocks[1].buttons[0]
        : undefined;
    if (!button) throw new Error('no button');

    await harness.deliver(
      harness.fake.componentInteraction('bob', ref.messageId, packCustomId(button, 'ask')),
    );

    expect(events).toHaveLength(0);
    const question = harness.fake.privateMessages('bob')[0];
    expect(screenText(harness.fake.privateMessages('bob'))).toContain(
      'Are you sure? Restore app-db?',
    );
    expect(screenText(harness.fake.privateMessages('bob'))).toContain('It overwrites production.');
    expect(harness.fake.privateMessages('alice')).toHaveLength(0);
    const confirmId = question?.components[0]?.components?.[0]?.custom_id ?? '';

    await harness.deliver(harness.fake.componentInteraction('bob', question?.id ?? '', confirmId));

    await vi.waitFor(() => expect(events).toHaveLength(1));
    // The question is closed, so its button cannot be clicked again.
    await vi.waitFor(() => expect(harness.fake.privateMessages('bob')[0]?.components).toEqual([]));
    expect(events[0]).toMatchObject({
      kind: 'action',
      actionId: 'approve',
      value: 'apr_1',
      identity: harness.identityOf('bob'),
      message: { channel: harness.fake.channelId, messageId: ref.messageId },
    });
  });

  it('delivers a confirmed click as one action event (the harness confirms as a person would)', async () => {
    await start();
    const ref = await harness.adapter.post({ channel: harness.fake.channelId }, restoreButtons);
    const button =
      restoreButtons.blocks[1]?.type === 'buttons'
        ? restoreButtons.blocks[1].buttons[0]
        : undefined;
    if (!button) throw new Error('no button');

    await harness.click('bob', ref, button);

    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(events[0]).toMatchObject({
      kind: 'action',
      actionId: 'approve',
      message: { messageId: ref.messageId },
    });
  });

  it('runs nothing when the confirmation is cancelled', async () => {
    await start();
    const ref = await harness.adapter.post({ channel: harness.fake.channelId }, restoreButtons);
    const button =
      restoreButtons.blocks[1]?.type === 'buttons'
        ? restoreButtons.blocks[1].buttons[0]
        : undefined;
    if (!button) throw new Error('no button');
    await harness.deliver(
      harness.fake.componentInteraction('bob', ref.messageId, packCustomId(button, 'ask')),
    );
    const question = harness.fake.privateMessages('bob')[0];
    const cancelId = question?.components[0]?.components?.[1]?.custom_id ?? '';

    const answer = await harness.deliver(
      harness.fake.componentInteraction('bob', question?.id ?? '', cancelId),
    );

    expect(answer).toMatchObject({ status: 200, body: { type: 7 } });
    expect(screenText(harness.fake.privateMessages('bob'))).toContain('Cancelled');
    expect(events).toHaveLength(0);
  });

  it('attributes a click to the interaction’s user whatever the button carries', async () => {
    await start();
    const ref = await harness.adapter.post(
      { channel: harness.fake.channelId },
      {
        text: 'x',
        blocks: [
          { type: 'buttons', buttons: [{ actionId: 'approve', value: 'discord:1', label: 'Go' }] },
        ],
      },
    );
    await harness.click('carol', ref, { actionId: 'approve', value: 'discord:1' });

    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(events[0]?.identity).toEqual(harness.identityOf('carol'));
  });

  it('answers a command through the interaction: defer, then the first post edits the deferred reply', async () => {
    await start(async (event) => {
      await event.ack.accept();
      const reply = harness.adapter.replyTo(event);
      const ref = await reply.post(progress(1));
      await reply.update(ref, progress(2));
      await reply.post(progress(3));
    });
    await harness.send('alice', '/backup create full');

    await vi.waitFor(() =>
      expect(screenText(harness.fake.publicMessages())).toContain('step 3 of 30'),
    );
    const paths = harness.fake.calls.map(
      (c) => `${c.method} ${c.path.replace(/\d{6,}|itok_\w+/g, ':id')}`,
    );
    expect(paths).toEqual([
      'PATCH /webhooks/:id/:id/messages/@original',
      'PATCH /webhooks/:id/:id/messages/:id',
      'POST /webhooks/:id/:id',
    ]);
    const seen = screenText(harness.fake.publicMessages());
    expect(seen).toContain('step 2 of 30');
    expect(seen).not.toContain('step 1 of 30');
  });

  it('defers a command before its first post when the handler did not acknowledge it', async () => {
    await start(async (event) => {
      await harness.adapter.replyTo(event).post(progress(1));
    });
    const answer = await harness.deliver(
      harness.fake.commandInteraction('alice', '/status', commands),
    );

    expect(answer).toMatchObject({ status: 200, body: { type: 5 } });
    await vi.waitFor(() =>
      expect(screenText(harness.fake.publicMessages())).toContain('step 1 of 30'),
    );
    expect(harness.fake.calls.map((c) => `${c.method} ${c.path.split('/').at(-1)}`)).toEqual([
      'PATCH @original',
    ]);
  });

  it('answers with the bot token once the interaction token has expired', async () => {
    let reply: ReturnType<typeof harness.adapter.replyTo> | undefined;
    let first: Awaited<ReturnType<NonNullable<typeof reply>['post']>> | undefined;
    await start(async (event) => {
      await event.ack.accept();
      reply = harness.adapter.replyTo(event);
      first = await reply.post(progress(1));
    });
    await harness.send('alice', '/backup create full');
    await vi.waitFor(() => expect(first).toBeDefined());
    if (!reply || !first) throw new Error('no reply');

    clock += INTERACTION_TOKEN_MS;
    await reply.update(first, progress(2));
    await reply.post(progress(3));

    const late = harness.fake.calls.slice(-2);
    expect(late.map((c) => `${c.method} ${c.path.split('/')[1]}`)).toEqual([
      'PATCH channels',
      'POST channels',
    ]);
    for (const call of late) expect(call.authorization).toMatch(/^Bot /);
    expect(screenText(harness.fake.publicMessages())).toContain('step 3 of 30');
  });

  it('answers privately first as an ephemeral reply, then as ephemeral follow-ups', async () => {
    await start(async (event) => {
      await event.ack.replyPrivately({
        text: 'Unknown profile nope',
        blocks: [{ type: 'section', text: 'Unknown profile nope' }],
      });
      await event.ack.replyPrivately({
        text: 'Valid: full',
        blocks: [{ type: 'section', text: 'Valid: full' }],
      });
    });
    const answer = await harness.deliver(
      harness.fake.commandInteraction('alice', '/backup create nope', commands),
    );

    expect(answer).toMatchObject({ status: 200, body: { type: 4, data: { flags: 64 } } });
    await vi.waitFor(() =>
      expect(screenText(harness.fake.privateMessages('alice'))).toContain('Valid: full'),
    );
    expect(screenText(harness.fake.privateMessages('alice'))).toContain('Unknown profile nope');
    expect(harness.fake.publicMessages()).toHaveLength(0);
    expect(harness.fake.privateMessages('bob')).toHaveLength(0);
  });

  it('removes a deferred reply that nothing replaced', async () => {
    await start(async (event) => {
      await event.ack.accept();
      await event.ack.replyPrivately({ text: 'refused', blocks: [] });
    });
    await harness.send('alice', '/restore latest');

    await vi.waitFor(() =>
      expect(harness.fake.calls.some((c) => c.method === 'DELETE')).toBe(true),
    );
    expect(harness.fake.publicMessages()).toHaveLength(0);
    expect(screenText(harness.fake.privateMessages('alice'))).toContain('refused');
  });

  it('uploads attachments as multipart files with their metadata', async () => {
    await start();
    await harness.adapter.post(
      { channel: harness.fake.channelId },
      {
        text: 'chart',
        blocks: [{ type: 'image', filename: 'rto.png', alt: 'chart' }],
        attachments: [{ filename: 'rto.png', contentType: 'image/png', data: new Uint8Array(10) }],
      },
    );
    const call = harness.fake.calls.at(-1);

    expect(call?.files).toEqual([
      { field: 'files[0]', name: 'rto.png', size: 10, contentType: 'image/png' },
    ]);
    expect(call?.body).toMatchObject({ attachments: [{ id: 0, filename: 'rto.png' }] });
  });

  it('starts a thread under a message and posts into it', async () => {
    await start();
    const parent = await harness.adapter.post({ channel: harness.fake.channelId }, progress(1));
    const thread = await harness.adapter.startThread(parent, 'Runbook: database corruption');
    await harness.adapter.post(thread, progress(2));

    expect(harness.fake.threads).toEqual([
      expect.objectContaining({
        parentId: harness.fake.channelId,
        messageId: parent.messageId,
        name: 'Runbook: database corruption',
      }),
    ]);
    expect(thread).toEqual({
      channel: harness.fake.channelId,
      thread: harness.fake.threads[0]?.id,
    });
    expect(harness.fake.lastMessage()?.channelId).toBe(thread.thread);
  });

  it('lands the last update of a burst even when Discord rate-limits edits', async () => {
    await start();
    const ref = await harness.adapter.post({ channel: harness.fake.channelId }, progress(0));
    harness.fake.rateLimit(3, (method) => method === 'PATCH');
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => harness.adapter.update(ref, progress(i + 1))),
    );

    const message = harness.fake.messages.get(ref.messageId);
    expect(message?.embeds[0]?.description).toBe('step 30 of 30');
    const patches = harness.fake.calls.filter((c) => c.method === 'PATCH');
    expect(patches.length).toBeLessThan(30);
    expect(
      patches.filter((c) => JSON.stringify(c.body).includes('step 30 of 30')).length,
    ).toBeGreaterThan(0);
  });

  it('answers autocomplete with the suggestions for the option being typed', async () => {
    const asked: string[] = [];
    await start(undefined, {
      suggest: async (kind, typed) => {
        asked.push(`${kind}:${typed}`);
        return ['full', 'fast', 'files'].filter((n) => n.startsWith(typed));
      },
    });
    const answer = await harness.deliver(
      harness.fake.autocompleteInteraction('alice', '/backup create', 'profile', 'f', commands),
    );

    expect(answer).toEqual({
      status: 200,
      body: {
        type: 8,
        data: { choices: ['full', 'fast', 'files'].map((n) => ({ name: n, value: n })) },
      },
    });
    expect(asked).toEqual(['profile:f']);
    expect(events).toHaveLength(0);
  });
});
