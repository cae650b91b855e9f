import type { CommandResult } from '../../src/bot/command.ts';
import type { Dispatcher } from '../../src/bot/dispatcher.ts';
import { silentAcknowledgement } from '../../src/chat/acknowledgement.ts';
import type { ChannelRef, MessageRef } from '../../src/chat/chat-adapter.ts';
import type { Block, Button, ChatMessage } from '../../src/chat/message.ts';
import type { ReplyChannel } from '../../src/chat/reply-channel.ts';
import { type Identity, parseIdentityKey } from '../../src/core/identity.ts';

/** One message in the test channel, with every version it went through. */
export interface PostedMessage {
  readonly ref: MessageRef;
  /** The first version is the one posted; each update adds one. */
  readonly versions: ChatMessage[];
  /** Posted with `postPrivately`: only the sender would see it. */
  readonly private?: boolean;
}

/** A block as one line of text, so tests can assert on what a person would read. */
export function blockText(block: Block): string {
  switch (block.type) {
    case 'header':
    case 'section':
    case 'code':
    case 'context':
      return block.text;
    case 'callout':
      return `[${block.tone}] ${block.text}`;
    case 'fields':
      return block.fields.map((f) => `${f.label}: ${f.value}`).join('\n');
    case 'progress':
      return `${block.label} ${block.fraction === null ? '?' : `${Math.round(block.fraction * 100)}%`} ${block.detail}`;
    case 'buttons':
      return block.buttons.map((b) => `[${b.label}]`).join(' ');
    case 'image':
      return `[image ${block.filename}: ${block.alt}]`;
  }
}

export function messageText(message: ChatMessage): string {
  return message.blocks.map(blockText).join('\n');
}

export function buttonsOf(message: ChatMessage): Button[] {
  return message.blocks.flatMap((b) => (b.type === 'buttons' ? [...b.buttons] : []));
}

function identityOf(user: string): Identity {
  return parseIdentityKey(user) ?? { platform: 'console', id: user };
}

/**
 * A chat channel for tests, driven the way a person uses the bot: `say('/backup create db')`,
 * `click('Retry')`, then look at the messages and their buttons.
 */
export class TestChat {
  readonly posted: PostedMessage[] = [];
  private readonly dispatcher: Dispatcher;
  private readonly channel: ChannelRef = { channel: 'ops' };
  private nextId = 1;
  /** Who speaks when `say` and `click` are not told: `alice` is `console:alice`. */
  user: string;
  /** Makes the next post or update throw, as a platform outage would. */
  failNextPost: Error | undefined;

  constructor(dispatcher: Dispatcher, options: { user?: string } = {}) {
    this.dispatcher = dispatcher;
    this.user = options.user ?? 'alice';
  }

  readonly reply: ReplyChannel = {
    post: async (message) => {
      this.throwIfFailing();
      const ref: MessageRef = { ...this.channel, messageId: `m${this.nextId++}` };
      this.posted.push({ ref, versions: [message] });
      return ref;
    },
    update: async (ref, message) => {
      this.throwIfFailing();
      const entry = this.posted.find((p) => p.ref.messageId === ref.messageId);
      if (!entry) throw new Error(`update of unknown message ${ref.messageId}`);
      entry.versions.push(message);
    },
    postPrivately: async (message) => {
      this.throwIfFailing();
      const ref: MessageRef = { ...this.channel, messageId: `m${this.nextId++}` };
      this.posted.push({ ref, versions: [message], private: true });
    },
  };

  private throwIfFailing(): void {
    const error = this.failNextPost;
    this.failNextPost = undefined;
    if (error) throw error;
  }

  /** Types a command as `as` (`alice`, or a full identity like `slack:U012AB3CD`). */
  say(text: string, as: string = this.user): Promise<CommandResult> {
    return this.dispatcher.handle(
      {
        kind: 'command',
        identity: identityOf(as),
        channel: this.channel,
        text,
        ack: silentAcknowledgement(),
      },
      this.reply,
    );
  }

  /** Clicks the newest button with this label, as `as`. */
  click(label: string, as: string = this.user): Promise<CommandResult> {
    for (const entry of [...this.posted].reverse()) {
      const button = buttonsOf(this.current(entry)).find((b) => b.label === label);
      if (button) {
        return this.dispatcher.handle(
          {
            kind: 'action',
            identity: identityOf(as),
            channel: this.channel,
            actionId: button.actionId,
            ...(button.value === undefined ? {} : { value: button.value }),
            message: entry.ref,
            ack: silentAcknowledgement(),
          },
          this.reply,
        );
      }
    }
    throw new Error(`no button labelled ${label} in the channel`);
  }

  /** Sends a click with a raw action id, as a platform would. */
  clickAction(actionId: string, as: string = this.user): Promise<CommandResult> {
    return this.dispatcher.handle(
      {
        kind: 'action',
        identity: identityOf(as),
        channel: this.channel,
        actionId,
        ack: silentAcknowledgement(),
      },
      this.reply,
    );
  }

  current(entry: PostedMessage): ChatMessage {
    return entry.versions[entry.versions.length - 1] as ChatMessage;
  }

  /** The newest message as it reads now. */
  last(): ChatMessage {
    const entry = this.posted[this.posted.length - 1];
    if (!entry) throw new Error('nothing was posted');
    return this.current(entry);
  }

  lastText(): string {
    return messageText(this.last());
  }

  /** Every message's current text, oldest first. */
  texts(): string[] {
    return this.posted.map((entry) => messageText(this.current(entry)));
  }

  /** What everyone in the channel sees: the messages not posted privately, oldest first. */
  publicTexts(): string[] {
    return this.posted.filter((p) => !p.private).map((entry) => messageText(this.current(entry)));
  }

  /** What only the sender was shown, oldest first. */
  privateTexts(): string[] {
    return this.posted.filter((p) => p.private).map((entry) => messageText(this.current(entry)));
  }
}
