import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  ChannelRef,
  ChatAdapter,
  InboundEvent,
  MessageRef,
} from '../../src/chat/chat-adapter.ts';
import { fitMessage } from '../../src/chat/limits.ts';
import { type Block, type Button, type ChatMessage, textMessage } from '../../src/chat/message.ts';
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
  /**
   * True where private answers are printed on the one screen everybody sees (the console), so
   * the suite does not check that others cannot see them. @defaultValue false
   */
  readonly privateIsPublic?: boolean;
  /** Frees the harness's streams, servers and clients. Called once after each test. */
  close(): Promise<void>;
}

/**
 * A handler that records every event. Some commands do more: `/explode` throws; `/block` waits,
 * never acknowledging, until `release()`; `/whisper` answers its sender privately, through the
 * acknowledgement and through the reply channel.
 */
function recordingHandler(adapter: () => ChatAdapter) {
  const events: InboundEvent[] = [];
  const gate = Promise.withResolvers<void>();
  const state = { blocked: 0, unblocked: 0 };
  return {
    events,
    state,
    release: () => gate.resolve(),
    handler: async (event: InboundEvent): Promise<void> => {
      events.push(event);
      if (event.kind !== 'command') return;
      if (event.text === '/explode') throw new Error('handler blew up');
      if (event.text === '/block') {
        state.blocked++;
        await gate.promise;
        state.unblocked++;
      }
      if (event.text === '/whisper') {
        await event.ack.replyPrivately(textMessage('Only you see this: 42 backups.'));
        await adapter().replyTo(event).postPrivately(textMessage('And this too: 7 restores.'));
      }
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

/** The smallest PNG: one transparent pixel. */
const PNG_1X1 = Uint8Array.from(
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  ),
);

/** 300 sections, 60 fields and 40 buttons: over every platform's blocks, characters and buttons. */
function hugeMessage(): ChatMessage {
  const blocks: Block[] = [{ type: 'header', text: 'Everything about bk_contract' }];
  for (let i = 0; i < 300; i++) {
    blocks.push({
      type: 'section',
      text: `part ${i} of the result: ${'lorem ipsum dolor sit amet '.repeat(8)}`,
    });
  }
  blocks.push({
    type: 'fields',
    fields: Array.from({ length: 60 }, (_, i) => ({ label: `Field ${i}`, value: `value ${i}` })),
  });
  blocks.push({
    type: 'buttons',
    buttons: Array.from({ length: 40 }, (_, i) => ({
      actionId: `cmd:backup show bk_contract_${i}`,
      label: `Show ${i}`,
      command: `/backup show bk_contract_${i}`,
    })),
  });
  return {
    text: `Everything about bk_contract ${'x'.repeat(20_000)}`,
    blocks,
    fullResult: '/backup show bk_contract',
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
      recorder = recordingHandler(() => harness.adapter);
      await harness.adapter.start(recorder.handler);
    });

    afterEach(async () => {
      recorder.release();
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

    it('delivers a click by a second person as theirs, with what the button carries', async () => {
      const button: Button = {
        actionId: 'approve',
        value: 'apr_c2',
        label: 'Approve',
        style: 'primary',
        command: '/approve apr_c2',
        confirm: { title: 'Approve?', text: 'It runs at once.', confirm: 'Approve' },
      };
      const on = await harness.adapter.post(harness.channel, {
        text: 'Restore of app-db needs approval',
        blocks: [
          { type: 'section', text: 'alice asks to restore app-db.' },
          { type: 'buttons', buttons: [button] },
        ],
      });
      await harness.send('alice', '/status');
      await harness.click('bob', on, button);

      await vi.waitFor(() => expect(recorder.events).toHaveLength(2));
      const click = recorder.events[1];
      expect(click?.identity).toEqual(expect.objectContaining(harness.identityOf('bob')));
      expect(click?.identity.platform).toBe(harness.adapter.platform);
      if (click?.kind === 'action') {
        expect(click).toMatchObject({ actionId: 'approve', value: 'apr_c2' });
        if (click.message) expect(click.message.messageId).toBe(on.messageId);
      } else {
        // The console has no clicks: typing the button's command is its click.
        expect(click).toMatchObject({ kind: 'command', text: '/approve apr_c2' });
      }
    });

    it('acknowledges an event in time when the handler does not and is still busy', async () => {
      await harness.send('alice', '/block');
      await vi.waitFor(() => expect(recorder.state.blocked).toBe(1));

      await harness.acknowledged();

      // The handler never acknowledged and has not returned: the adapter answered for it.
      expect(recorder.state.unblocked).toBe(0);
      recorder.release();
      await vi.waitFor(() => expect(recorder.state.unblocked).toBe(1));
    });

    it('shows a private answer to its sender only', async () => {
      await harness.send('alice', '/whisper');

      await vi.waitFor(async () => {
        const mine = await harness.seenPrivately('alice');
        expect(mine).toContain('Only you see this: 42 backups.');
        expect(mine).toContain('And this too: 7 restores.');
      });
      if (!harness.privateIsPublic) {
        const everyone = await harness.seen();
        expect(everyone).not.toContain('Only you see this');
        expect(everyone).not.toContain('And this too');
        expect(await harness.seenPrivately('bob')).not.toContain('Only you see this');
      }
    });

    it('posts into a thread under a message', async () => {
      const parent = await harness.adapter.post(harness.channel, {
        text: 'Runbook database-corruption started',
        blocks: [{ type: 'header', text: 'Runbook database-corruption started' }],
      });
      const thread = await harness.adapter.startThread(parent, 'database-corruption run_c1');
      const step = await harness.adapter.post(thread, {
        text: 'Step 1 of 4: stop the writers',
        blocks: [{ type: 'section', text: 'Step 1 of 4: stop the writers' }],
      });

      expect(step.messageId).not.toBe(parent.messageId);
      await vi.waitFor(async () => {
        expect(await harness.seen()).toContain('Step 1 of 4: stop the writers');
      });
    });

    it('sends a file with a message and shows its name', async () => {
      await harness.adapter.post(harness.channel, {
        text: 'Drill weekly-db: timeline attached',
        blocks: [
          { type: 'section', text: 'Drill weekly-db: timeline attached' },
          { type: 'image', filename: 'contract-rto.png', alt: 'RTO of the last drills' },
        ],
        attachments: [
          {
            filename: 'contract-timeline.md',
            contentType: 'text/markdown',
            data: new TextEncoder().encode('# Drill weekly-db\n'),
            title: 'Timeline',
          },
          {
            filename: 'contract-rto.png',
            contentType: 'image/png',
            data: PNG_1X1,
            title: 'RTO',
          },
        ],
      });

      await vi.waitFor(async () => {
        const seen = await harness.seen();
        expect(seen).toContain('contract-timeline.md');
        expect(seen).toContain('contract-rto.png');
      });
    });

    it('posts a message far over any platform’s limits, cut with a pointer to the full result', async () => {
      const message = hugeMessage();
      const fitted = fitMessage(message, harness.adapter.limits);

      await expect(harness.adapter.post(harness.channel, message)).resolves.toMatchObject({
        channel: harness.channel.channel,
      });

      await vi.waitFor(async () => {
        const seen = await harness.seen();
        expect(seen).toContain('Everything about bk_contract');
        if (fitted === message) {
          // A platform without limits shows all of it.
          expect(seen).toContain('part 299 of the result');
        } else {
          expect(seen).toContain(`Cut to fit ${harness.adapter.limits.name}`);
          expect(seen).toContain('/backup show bk_contract');
        }
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
