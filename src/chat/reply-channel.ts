import type { ChannelRef, ChatAdapter, MessageRef } from './chat-adapter.ts';
import type { ChatMessage } from './message.ts';

/** Where a command's answers go: the channel (or thread) it came from. */
export interface ReplyChannel {
  post(message: ChatMessage): Promise<MessageRef>;
  update(ref: MessageRef, message: ChatMessage): Promise<void>;
  /** Posts to another channel of the same platform (alerts). Absent: the platform has one channel. */
  postTo?(to: ChannelRef, message: ChatMessage): Promise<MessageRef>;
}

/** Binds an adapter to one channel. */
export function replyChannel(adapter: ChatAdapter, to: ChannelRef): ReplyChannel {
  return {
    post: (message) => adapter.post(to, message),
    update: (ref, message) => adapter.update(ref, message),
    postTo: (other, message) => adapter.post(other, message),
  };
}
