import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  ChannelRef,
  ChatAdapter,
  InboundEvent,
  MessageRef,
} from '../../src/chat/chat-adapter.ts';
import type { Button, ChatMessage } from '../../src/chat/message.ts';
import type { Identity } from '../../src/core/identity.ts';

/**
 * One chat platform wired for the contract suite: the adapter under test, plus a way to act as
 * its users and to look at the screen they see.
 */
export interface ChatAdapterHarness {
  readonly adapter: ChatAdapter;
  /** The channel the users type in; the suite posts its messages there too. */
  readonly channel: ChannelRef;
  /** The identity the adapter must report for commands sent by `user` (a name like `alice`). */
  identityOf(user: string): Identity;
  /** Sends `text` as `user`, the way that platform delivers a typed command. */
  send(user: string, text: string): Promise<void>;
  /**
   * Clicks `button` of the posted message `on` as `user`, the way the platform delivers a click
   * (a signed payload naming the clicker). The console has no clicks: typing the button's
   * command is its click.
   */
  click(user: string, on: MessageRef, button: Button): Promise<void>;
  /**
   * Resolves once the platform has received an acknowledgement of every event sent so far (an
   * HTTP answer, a socket ack, an interaction callback); the console acknowledges at once.
   */
  acknowledged(): Promise<void>;
  /** What the users see now, as plain text, oldest first. */
  seen(): Promise<string>;
  /** What only `user` was shown (ephemeral answers), as plain text, oldest first. */
  seenPrivately(user: string): Promise<string>;
  /** Frees the harness's streams, servers and clients. Called once after each test. */
  close(): Promise<void>;
}

/** A handler that records every event; a command `/explode` makes it throw. */
function recordingHandler() {
  const events: InboundEvent[] = [];
  return {
    events,
    handler: async (event: InboundEvent): Promise<void> => {
      events.push(event);
      if (event.kind === 'command' && event.text === '/explode') throw new Error('handler blew up');
    },
  };
}

function commandTexts(events: readonly InboundEvent[]): string[] {
  return events.flatMap((event) => (event.kind === 'command' ? [event.text] : []));
}

const runningBackup: ChatMessage = {
  text: 'Backup bk_contract running',
  blocks: [
    { type: 'header', text: 'Backup bk_contract running' },
    { type: 'progress', label: 'app-db', fraction: 0.25, detail: '12 MB' },
  ],
};

const finishedBackup: ChatMessage = {
  text: 'Backup bk_contract completed',
  blocks: [
    { type: 'header', text: 'Backup bk_contract completed' },
    { type: 'fields', fields: [{ label: 'Stored', value: '48 MB in 7 s' }] },
  ],
};

function progressOf(fraction: number): ChatMessage {
  return {
    text: runningBackup.text,
    blocks: [
      { type: 'header', text: 'Backup bk_contract running' },
      { type: 'progress', label: 'app-db', fraction, detail: `${Math.round(fraction * 48)} MB` },
    ],
  };
}

/** Runs the behaviour every `ChatAdapter` promises against the adapter `factory` builds. */
export function describeChatAdapterContract(
  name: string,
  factory: () => Promise<ChatAdapterHarness>,
): void {
  describe(`ChatAdapter contract: ${name}`, () => {
    let harness: ChatAdapterHarness;
    let recorder: ReturnType<typeof recordingHandler>;

    beforeEach(async () => {
      harness = await factory();
      recorder = recordingHandler();
      await harness.adapter.start(recorder.handler);
    });

    afterEach(async () => {
      await harness.close();
    });

    it('delivers a typed command to the handler with the sender and the text as typed', async () => {
      await harness.send('alice', '/backup create full --note "before deploy"');

      await vi.waitFor(() => expect(recorder.events).toHaveLength(1));
      const [event] = recorder.events;
      expect(event).toMatchObject({
        kind: 'command',
        identity: harness.identityOf('alice'),
        channel: { channel: harness.channel.channel },
        text: '/backup create full --note "before deploy"',
      });
      expect(event?.identity.platform).toBe(harness.adapter.platform);
    });

    it('tells two users apart', async () => {
      await harness.send('alice', '/restore latest --profile db');
      await harness.send('bob', '/approvals');

      await vi.waitFor(() => expect(recorder.events).toHaveLength(2));
      expect(recorder.events.map((e) => e.identity)).toEqual([
        expect.objectContaining(harness.identityOf('alice')),
        expect.objectContaining(harness.identityOf('bob')),
      ]);
      expect(harness.identityOf('alice').id).not.toBe(harness.identityOf('bob').id);
    });

    it('delivers commands in the order they were sent', async () => {
      await harness.send('alice', '/status');
      await harness.send('alice', '/backup list');
      await harness.send('alice', '/approvals');

      await vi.waitFor(() => expect(recorder.events).toHaveLength(3));
      expect(commandTexts(recorder.events)).toEqual(['/status', '/backup list', '/approvals']);
    });

    it('keeps delivering commands after the handler throws', async () => {
      await harness.send('alice', '/explode');
      await harness.send('alice', '/status');

      await vi.waitFor(() => expect(commandTexts(recorder.events)).toContain('/status'));
    });

    it('shows a posted message with its text, fields and buttons', async () => {
      const ref = await harness.adapter.post(harness.channel, {
        text: 'Restore of app-db needs approval',
        blocks: [
          { type: 'header', text: 'Restore of app-db needs approval' },
          { type: 'section', text: 'Requested by alice from backup bk_contract.' },
          {
            type: 'fields',
            fields: [
              { label: 'Target', value: 'app-db (production)' },
              { label: 'Expires', value: 'in 30 minutes' },
            ],
          },
          {
            type: 'buttons',
            buttons: [
              {
                actionId: 'approve:apr_c1',
                label: 'Approve',
                style: 'primary',
                command: '/approve apr_c1',
              },
              {
                actionId: 'reject:apr_c1',
                label: 'Reject',
                style: 'danger',
                command: '/reject apr_c1',
              },
            ],
          },
        ],
      });

      expect(ref.channel).toBe(harness.channel.channel);
      expect(ref.messageId).not.toBe('');
      const seen = await harness.seen();
      for (const text of [
        'Restore of app-db needs approval',
        'Requested by alice from backup bk_contract.',
        'Target',
        'app-db (production)',
        'Expires',
        'Approve',
        'Reject',
      ]) {
        expect(seen).toContain(text);
      }
    });

    it('gives every posted message a reference of its own', async () => {
      const first = await harness.adapter.post(harness.channel, runningBackup);
      const second = await harness.adapter.post(harness.channel, runningBackup);

      expect(first.messageId).not.toBe(second.messageId);
    });

    it('shows the final state of an updated message last', async () => {
      const ref = await harness.adapter.post(harness.channel, runningBackup);
      await harness.adapter.update(ref, finishedBackup);

      await vi.waitFor(async () => {
        const seen = await harness.seen();
        expect(seen).toContain('Backup bk_contract completed');
        expect(seen).toContain('48 MB in 7 s');
        expect(seen.lastIndexOf('Backup bk_contract completed')).toBeGreaterThan(
          seen.lastIndexOf('Backup bk_contract running'),
        );
      });
    });

    it('shows the final state after a burst of progress updates', async () => {
      const ref = await harness.adapter.post(harness.channel, progressOf(0));
      for (let i = 1; i <= 20; i++) await harness.adapter.update(ref, progressOf(i / 20));
      await harness.adapter.update(ref, finishedBackup);

      await vi.waitFor(async () => {
        const seen = await harness.seen();
        expect(seen.lastIndexOf('Backup bk_contract completed')).toBeGreaterThan(
          seen.lastIndexOf('Backup bk_contract running'),
        );
      });
    });

    it('stops delivering commands once stopped', async () => {
      await harness.send('alice', '/status');
      await vi.waitFor(() => expect(recorder.events).toHaveLength(1));

      await harness.adapter.stop();
      await harness.send('alice', '/backup create full');
      await new Promise((resolve) => setTimeout(resolve, 100));

      expect(commandTexts(recorder.events)).toEqual(['/status']);
    });
  });
}
