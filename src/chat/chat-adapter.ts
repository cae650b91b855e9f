import type { Identity } from '../core/identity.ts';
import type { PlatformLimits } from './limits.ts';
import type { ChatMessage } from './message.ts';
import type { ReplyChannel } from './reply-channel.ts';

/** Where a message goes: a channel, optionally a thread in it. */
export interface ChannelRef {
  readonly channel: string;
  /** The thread, as `startThread` returned it. */
  readonly thread?: string;
}

/** A posted message that can be updated later. */
export interface MessageRef extends ChannelRef {
  readonly messageId: string;
}

/**
 * How the bot answers the platform that delivered an event. Slack and Discord drop an event
 * that is not acknowledged within 3 s; the handler acknowledges as soon as it knows what to say
 * (after parsing and the role check, before any slow work), and the adapter acknowledges on its
 * own at `PlatformLimits.ackDeadlineMs` if the handler has not, so the window is never missed.
 */
export interface Acknowledgement {
  /**
   * Tells the platform the event was taken: results follow as messages. Resolves once the
   * platform has the answer; calling it again, or after `replyPrivately`, does nothing.
   */
  accept(): Promise<void>;
  /**
   * Answers only the person who sent the event (Slack and Discord ephemeral messages; the
   * console prints it): errors and refusals nobody else needs to see. Acknowledges the event
   * when that has not happened yet; may be called again later in the event's life.
   */
  replyPrivately(message: ChatMessage): Promise<void>;
  /** Whether the platform has been answered, by the handler or by the adapter's deadline. */
  readonly acknowledged: boolean;
}

export type InboundEvent =
  | {
      readonly kind: 'command';
      readonly identity: Identity;
      readonly channel: ChannelRef;
      /** The command as typed, starting with `/` (e.g. `/backup create full`). */
      readonly text: string;
      readonly ack: Acknowledgement;
    }
  | {
      readonly kind: 'action';
      /** From the platform's signed payload: who clicked, never anything the button carries. */
      readonly identity: Identity;
      readonly channel: ChannelRef;
      readonly actionId: string;
      /** The button's `value`, when it had one. */
      readonly value?: string;
      /** The message the button was on. */
      readonly message?: MessageRef;
      readonly ack: Acknowledgement;
    };

export type InboundHandler = (event: InboundEvent) => Promise<void>;

/**
 * The port every chat platform implements. Adapters only translate to and from the neutral
 * model: no business logic lives in them. They apply their platform's limits (`fitMessage`)
 * to everything they send, so a long message is cut with a pointer to the full result, never
 * refused by the platform.
 */
export interface ChatAdapter {
  readonly platform: Identity['platform'];
  /** What this platform accepts; `fitMessage` cuts messages to it. */
  readonly limits: PlatformLimits;
  /** Starts receiving; every command and click goes to `handler`. */
  start(handler: InboundHandler): Promise<void>;
  stop(): Promise<void>;
  post(to: ChannelRef, message: ChatMessage): Promise<MessageRef>;
  update(ref: MessageRef, message: ChatMessage): Promise<void>;
  /**
   * Opens a thread under a posted message (a runbook run), named `title` where the platform
   * names threads, and returns where to post into it.
   */
  startThread(parent: MessageRef, title: string): Promise<ChannelRef>;
  /**
   * Where the answers to `event` go: its channel, and privately its sender. Discord answers an
   * interaction through its token for 15 minutes and with the bot token after that.
   */
  replyTo(event: InboundEvent): ReplyChannel;
}
