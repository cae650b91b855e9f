import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '../../src/chat/message.ts';
import type { RecordedCall } from '../support/fake-slack.ts';
import { type SlackHarness, slackHarness } from '../support/fake-slack-harness.ts';

const version = (n: number | 'final'): ChatMessage => ({
  text: `Backup version ${n}`,
  blocks: [{ type: 'section', text: `Backup version ${n}` }],
});

const textOf = (call: RecordedCall | undefined) => String(call?.params.text);

describe('Slack messages: updates, threads and files', () => {
  let harness: SlackHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('coalesces a burst of updates and sends them apart, the final version last', async () => {
    harness = await slackHarness('http', { updateIntervalMs: 300 });
    await harness.adapter.start(async () => undefined);
    const ref = await harness.adapter.post(harness.channel, version(0));

    for (let i = 1; i <= 10; i++) await harness.adapter.update(ref, version(i));
    await harness.adapter.update(ref, version('final'));

    const fake = harness.fake;
    await vi.waitFor(
      () => expect(textOf(fake.callsOf('chat.update').at(-1))).toBe('Backup version final'),
      {
        timeout: 5_000,
      },
    );
    const updates = fake.callsOf('chat.update');
    // The first version goes at once; the rest wait and only the newest of them is sent.
    expect(updates.map(textOf)).toEqual(['Backup version 1', 'Backup version final']);
    for (let i = 1; i < updates.length; i++) {
      expect((updates[i]?.at ?? 0) - (updates[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(295);
    }
  });

  it('waits out a 429 Retry-After, then sends the newest version, never dropping the final one', async () => {
    harness = await slackHarness('http', { updateIntervalMs: 100 });
    await harness.adapter.start(async () => undefined);
    const fake = harness.fake;
    const ref = await harness.adapter.post(harness.channel, version(0));
    fake.rateLimit('chat.update', 1);

    await harness.adapter.update(ref, version(1));
    await vi.waitFor(() => expect(fake.callsOf('chat.update')).toHaveLength(1));
    for (let i = 2; i <= 5; i++) await harness.adapter.update(ref, version(i));
    await harness.adapter.update(ref, version('final'));

    await vi.waitFor(
      () => expect(textOf(fake.callsOf('chat.update').at(-1))).toBe('Backup version final'),
      { timeout: 5_000 },
    );
    const updates = fake.callsOf('chat.update');
    const limited = updates[0];
    expect(limited?.status).toBe(429);
    // Nothing was sent for the message inside the Retry-After window the fake answered.
    const after = updates.slice(1);
    expect(after.length).toBeGreaterThan(0);
    for (const call of after) expect(call.at - (limited?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect(after.map(textOf)).toEqual(['Backup version final']);
    // What the channel shows is the final version.
    expect(await harness.seen()).toBe('Backup version final');
  });

  it('sends the final version still queued when the adapter stops', async () => {
    harness = await slackHarness('http', { updateIntervalMs: 400 });
    await harness.adapter.start(async () => undefined);
    const ref = await harness.adapter.post(harness.channel, version(0));
    await harness.adapter.update(ref, version(1));
    await harness.adapter.update(ref, version('final'));

    await harness.adapter.stop();

    expect(await harness.seen()).toBe('Backup version final');
  });

  it('posts into a thread started under a message', async () => {
    harness = await slackHarness('http');
    const parent = await harness.adapter.post(harness.channel, version(0));

    const thread = await harness.adapter.startThread(parent, 'Runbook db-failover');
    const reply = await harness.adapter.post(thread, version(1));

    expect(thread).toEqual({ channel: 'C0OPS', thread: parent.messageId });
    expect(reply.thread).toBe(parent.messageId);
    expect(harness.fake.callsOf('chat.postMessage')[1]?.params.thread_ts).toBe(parent.messageId);
  });

  it('uploads attachments into the message’s channel and thread (files.uploadV2)', async () => {
    harness = await slackHarness('http');
    const data = new Uint8Array([137, 80, 78, 71, 1, 2, 3, 4]);
    await harness.adapter.post(
      { channel: 'C0OPS', thread: '1765000000.000009' },
      {
        text: 'Drill report',
        blocks: [{ type: 'image', filename: 'rto.png', alt: 'RTO per week' }],
        attachments: [{ filename: 'rto.png', contentType: 'image/png', data, title: 'RTO' }],
      },
    );

    // files.uploadV2 may look up the bot first (auth.test): that is not part of the upload.
    const methods = harness.fake.calls.map((c) => c.method).filter((m) => m !== 'auth.test');
    expect(methods).toEqual([
      'chat.postMessage',
      'files.getUploadURLExternal',
      'upload',
      'files.completeUploadExternal',
    ]);
    expect(harness.fake.files).toEqual([
      {
        id: expect.any(String),
        filename: 'rto.png',
        bytes: Buffer.from(data),
        channel: 'C0OPS',
        threadTs: '1765000000.000009',
        title: 'RTO',
      },
    ]);
  });

  it('retries a post Slack rate-limits after its Retry-After', async () => {
    harness = await slackHarness('http');
    harness.fake.rateLimit('chat.postMessage', 1);

    const ref = await harness.adapter.post(harness.channel, version(0));

    const posts = harness.fake.callsOf('chat.postMessage');
    expect(posts.map((p) => p.status)).toEqual([429, 200]);
    expect((posts[1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect(ref.messageId).not.toBe('');
  });
});
