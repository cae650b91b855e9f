import type { Acknowledgement } from './chat-adapter.ts';
import type { ChatMessage } from './message.ts';

/** How one platform answers one event; `createAcknowledgement` calls each at most as allowed. */
export interface AcknowledgementWire {
  /** The plain acknowledgement (Slack `ack()`, Discord defer). Called at most once. */
  accept(): Promise<void>;
  /**
   * A private answer to the sender. `first` is true when it is also the acknowledgement (Slack
   * acks with the ephemeral text; Discord replies ephemerally); otherwise the event was
   * acknowledged before and this is a follow-up.
   */
  replyPrivately(message: ChatMessage, first: boolean): Promise<void>;
  /** Called when the adapter's own deadline acknowledged the event (for logs and metrics). */
  onDeadline?(): void;
  /** Where a failed acknowledgement is reported; it never reaches the handler. */
  onError?(error: unknown): void;
}

export interface AcknowledgementOptions {
  /** The adapter accepts on its own this long after the event arrived. `Infinity`: never. */
  readonly deadlineMs: number;
}

/** An acknowledgement the adapter can also settle itself, and cancel once the event is done. */
export interface AdapterAcknowledgement extends Acknowledgement {
  /** Stops the deadline timer; the adapter calls it when the handler has returned. */
  dispose(): void;
  /** Resolves once the platform has been answered (by the handler or the deadline). */
  readonly settled: Promise<void>;
}

/**
 * The acknowledgement state every adapter needs: accept once, a private reply that doubles as
 * the acknowledgement when it comes first, and a deadline that accepts on the handler's behalf
 * so a slow handler never misses the platform's window.
 */
export function createAcknowledgement(
  wire: AcknowledgementWire,
  options: AcknowledgementOptions,
): AdapterAcknowledgement {
  let answered: Promise<void> | undefined;
  let markSettled: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => {
    markSettled = resolve;
  });
  const report = (error: unknown) => wire.onError?.(error);

  const answer = (how: () => Promise<void>): Promise<void> => {
    if (answered) return answered;
    clearTimeout(timer);
    answered = how().then(markSettled, (error: unknown) => {
      markSettled();
      throw error;
    });
    return answered;
  };

  const timer =
    Number.isFinite(options.deadlineMs) && options.deadlineMs >= 0
      ? setTimeout(() => {
          if (answered) return;
          wire.onDeadline?.();
          answer(() => wire.accept()).catch(report);
        }, options.deadlineMs)
      : undefined;
  timer?.unref?.();

  return {
    get acknowledged() {
      return answered !== undefined;
    },
    settled,
    accept: () => answer(() => wire.accept()),
    async replyPrivately(message) {
      if (!answered) {
        await answer(() => wire.replyPrivately(message, true));
        return;
      }
      await answered.catch(() => undefined);
      await wire.replyPrivately(message, false);
    },
    dispose: () => clearTimeout(timer),
  };
}

/** An acknowledgement for events no platform waits on (the CLI, the scheduler, tests). */
export function silentAcknowledgement(
  replyPrivately: (message: ChatMessage) => Promise<void> = async () => undefined,
): AdapterAcknowledgement {
  return createAcknowledgement(
    { accept: async () => undefined, replyPrivately: (message) => replyPrivately(message) },
    { deadlineMs: Number.POSITIVE_INFINITY },
  );
}
