import type { ChannelRef, ChatAdapter, InboundEvent, MessageRef } from './chat-adapter.ts';
import type { ChatMessage } from './message.ts';

/** Where a command's answers go: the channel (or thread) it came from, and its sender. */
export interface ReplyChannel {
  post(message: ChatMessage): Promise<MessageRef>;
  update(ref: MessageRef, message: ChatMessage): Promise<void>;
  /** Only the sender sees it: errors, refusals, bad input. */
  postPrivately(message: ChatMessage): Promise<void>;
  /** Posts to another channel of the same platform (alerts). Absent: the platform has one channel. */
  postTo?(to: ChannelRef, message: ChatMessage): Promise<MessageRef>;
  /** Opens a thread under a posted message. Absent: threads are not available here. */
  startThread?(parent: MessageRef, title: string): Promise<ChannelRef>;
}

/**
 * The plain way to answer an event: post into its channel, privately through its
 * acknowledgement. Adapters whose platform answers differently write their own `replyTo`.
 */
export function replyChannel(adapter: ChatAdapter, event: InboundEvent): ReplyChannel {
  const to = event.channel;
  return {
    post: (message) => adapter.post(to, message),
    update: (ref, message) => adapter.update(ref, message),
    postPrivately: (message) => event.ack.replyPrivately(message),
    postTo: (other, message) => adapter.post(other, message),
    startThread: (parent, title) => adapter.startThread(parent, title),
  };
}
