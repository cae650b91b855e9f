import type { MessageRef } from '../chat-adapter.ts';
import type { ChatMessage } from '../message.ts';
import { retryAfterMs, sleep } from './rate-limit.ts';

export interface UpdateQueueOptions {
  /** Sends one version of a message (`chat.update`). */
  readonly send: (ref: MessageRef, message: ChatMessage) => Promise<void>;
  /** The least time between two sends for one message. */
  readonly intervalMs: number;
  /** Where a version that could not be sent is reported. */
  readonly onError: (error: unknown, ref: MessageRef) => void;
}

interface Pending {
  readonly ref: MessageRef;
  /** The newest version not sent yet. */
  latest: ChatMessage | undefined;
  /** No send for this message before this time (ms since the epoch). */
  notBefore: number;
  done?: Promise<void>;
}

/**
 * Live updates of posted messages, coalesced per message: at most one `chat.update` in flight
 * for a message, the newest version replaces any that waits, sends at least `intervalMs` apart,
 * and after a 429 nothing is sent for that message before Slack's `Retry-After` has passed —
 * then the newest version goes. The final version is never dropped.
 */
export class UpdateQueue {
  readonly #options: UpdateQueueOptions;
  readonly #messages = new Map<string, Pending>();
  readonly #lastSent = new Map<string, number>();

  constructor(options: UpdateQueueOptions) {
    this.#options = options;
  }

  /** Queues `message` as the newest version of `ref`; returns at once. */
  update(ref: MessageRef, message: ChatMessage): void {
    const key = `${ref.channel}\u0000${ref.messageId}`;
    const pending = this.#messages.get(key);
    if (pending) {
      pending.latest = message;
      return;
    }
    this.#forgetOldSends();
    const record: Pending = {
      ref,
      latest: message,
      notBefore: (this.#lastSent.get(key) ?? Number.NEGATIVE_INFINITY) + this.#options.intervalMs,
    };
    this.#messages.set(key, record);
    record.done = this.#drain(record).finally(() => this.#messages.delete(key));
  }

  /** Resolves once every queued version has been sent (or failed for good). */
  async flush(): Promise<void> {
    while (this.#messages.size > 0) {
      await Promise.all([...this.#messages.values()].map((p) => p.done));
    }
  }

  /** Send times older than the interval no longer hold anything back. */
  #forgetOldSends(): void {
    const before = Date.now() - this.#options.intervalMs;
    for (const [key, at] of this.#lastSent) if (at < before) this.#lastSent.delete(key);
  }

  async #drain(pending: Pending): Promise<void> {
    const key = `${pending.ref.channel}\u0000${pending.ref.messageId}`;
    for (;;) {
      const message = pending.latest;
      if (message === undefined) return;
      const wait = pending.notBefore - Date.now();
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      pending.latest = undefined;
      try {
        await this.#options.send(pending.ref, message);
        const at = Date.now();
        this.#lastSent.set(key, at);
        pending.notBefore = at + this.#options.intervalMs;
      } catch (error) {
        const retryAfter = retryAfterMs(error);
        if (retryAfter === undefined) {
          this.#options.onError(error, pending.ref);
          pending.notBefore = Date.now() + this.#options.intervalMs;
          continue;
        }
        // Rate limited: keep this version unless a newer one came meanwhile.
        pending.latest ??= message;
        pending.notBefore = Date.now() + retryAfter;
      }
    }
  }
}
