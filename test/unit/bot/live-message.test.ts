import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { liveMessage } from '../../../src/bot/live-message.ts';
import type { MessageRef } from '../../../src/chat/chat-adapter.ts';
import { textMessage } from '../../../src/chat/message.ts';

const ref: MessageRef = { channel: 'ops', messageId: 'm1' };

function recorder() {
  const sent: string[] = [];
  const reply = {
    post: async () => ref,
    postPrivately: async () => undefined,
    update: async (_: MessageRef, message: { text: string }) => {
      sent.push(message.text);
    },
  };
  return { sent, reply };
}

describe('liveMessage', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first update at once and at most one per interval after it', async () => {
    const { sent, reply } = recorder();
    const live = liveMessage(reply, ref, { intervalMs: 2000, onError: () => undefined });
    live.progress(textMessage('1'));
    live.progress(textMessage('2'));
    live.progress(textMessage('3'));
    await vi.advanceTimersByTimeAsync(1999);
    expect(sent).toEqual(['1']);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual(['1', '3']);
    live.progress(textMessage('4'));
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toEqual(['1', '3', '4']);
  });

  it('sends the final message at once and drops progress still waiting', async () => {
    const { sent, reply } = recorder();
    const live = liveMessage(reply, ref, { intervalMs: 2000, onError: () => undefined });
    live.progress(textMessage('1'));
    live.progress(textMessage('2'));
    await live.finish(textMessage('done'));
    await vi.advanceTimersByTimeAsync(5000);
    live.progress(textMessage('late'));
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toEqual(['1', 'done']);
  });

  it('keeps updates in order even when the platform is slow', async () => {
    const sent: string[] = [];
    const reply = {
      post: async () => ref,
      postPrivately: async () => undefined,
      update: async (_: MessageRef, message: { text: string }) => {
        await new Promise((resolve) => setTimeout(resolve, message.text === '1' ? 3000 : 10));
        sent.push(message.text);
      },
    };
    const live = liveMessage(reply, ref, { intervalMs: 0, onError: () => undefined });
    live.progress(textMessage('1'));
    const finished = live.finish(textMessage('done'));
    await vi.advanceTimersByTimeAsync(4000);
    await finished;
    expect(sent).toEqual(['1', 'done']);
  });

  it('reports a failed update and goes on', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const reply = {
      post: async () => ref,
      postPrivately: async () => undefined,
      update: async () => {
        calls += 1;
        if (calls === 1) throw new Error('rate limited');
      },
    };
    const live = liveMessage(reply, ref, { intervalMs: 0, onError: (e) => errors.push(e) });
    live.progress(textMessage('1'));
    await live.finish(textMessage('done'));
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
  });
});
