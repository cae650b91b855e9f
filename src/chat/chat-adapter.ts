import type { Identity } from '../core/identity.ts';
import type { ChatMessage } from './message.ts';

/** Where a message goes: a channel, optionally a thread in it. */
export interface ChannelRef {
  readonly channel: string;
  readonly thread?: string;
}

/** A posted message that can be updated later. */
export interface MessageRef extends ChannelRef {
  readonly messageId: string;
}

export type InboundEvent =
  | {
      readonly kind: 'command';
      readonly identity: Identity;
      readonly channel: ChannelRef;
      /** The command as typed, starting with `/` (e.g. `/backup create full`). */
      readonly text: string;
    }
  | {
      readonly kind: 'action';
      readonly identity: Identity;
      readonly channel: ChannelRef;
      readonly actionId: string;
      readonly message?: MessageRef;
    };

export type InboundHandler = (event: InboundEvent) => Promise<void>;

/**
 * The port every chat platform implements. Adapters only translate to and from the neutral
 * model: no business logic lives in them.
 */
export interface ChatAdapter {
  readonly platform: Identity['platform'];
  /** Starts receiving; every command and click goes to `handler`. */
  start(handler: InboundHandler): Promise<void>;
  stop(): Promise<void>;
  post(to: ChannelRef, message: ChatMessage): Promise<MessageRef>;
  update(ref: MessageRef, message: ChatMessage): Promise<void>;
}
