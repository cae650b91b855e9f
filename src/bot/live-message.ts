import type { MessageRef } from '../chat/chat-adapter.ts';
import type { ChatMessage } from '../chat/message.ts';
import type { ReplyChannel } from '../chat/reply-channel.ts';

/** A posted message kept up to date with progress, within the platforms' rate limits. */
export interface LiveMessage {
  /**
   * Shows `message` now, or, when the last update was less than the interval ago, once the
   * interval has passed; a newer message replaces one still waiting.
   */
  progress(message: ChatMessage): void;
  /** Drops any waiting progress and shows `message` at once, after updates already under way. */
  finish(message: ChatMessage): Promise<void>;
}

export interface LiveMessageOptions {
  /** Least time between two progress updates. */
  readonly intervalMs: number;
  /** Called when an update fails; progress goes on. */
  readonly onError: (error: unknown) => void;
  /** @defaultValue `Date.now` */
  readonly now?: () => number;
}

/**
 * Throttles updates of one message: at most one progress update per interval (Slack allows
 * about one `chat.update` per second per channel), and the final one always goes out.
 */
export function liveMessage(
  reply: ReplyChannel,
  ref: MessageRef,
  options: LiveMessageOptions,
): LiveMessage {
  const now = options.now ?? Date.now;
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let waiting: ChatMessage | undefined;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  // Updates go out one after another, so an older one never lands after a newer one.
  let chain: Promise<void> = Promise.resolve();

  const send = (message: ChatMessage): void => {
    lastSentAt = now();
    chain = chain.then(() => reply.update(ref, message)).catch(options.onError);
  };

  const flush = (): void => {
    timer = undefined;
    const message = waiting;
    waiting = undefined;
    if (message && !finished) send(message);
  };

  return {
    progress(message) {
      if (finished) return;
      const wait = lastSentAt + options.intervalMs - now();
      if (wait <= 0 && timer === undefined) {
        send(message);
        return;
      }
      waiting = message;
      timer ??= setTimeout(flush, Math.max(0, wait));
    },
    async finish(message) {
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      waiting = undefined;
      send(message);
      await chain;
    },
  };
}
