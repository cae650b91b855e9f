/**
 * Sends updates of one message one at a time and skips the versions overtaken while one was
 * in flight: a burst of progress edits becomes a few requests, and the last version always
 * lands last. Each caller's promise settles with the send that carried its version or a later one.
 */
export class UpdateCoalescer {
  private readonly slots = new Map<string, Slot>();

  run(key: string, send: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const slot = this.slots.get(key);
      if (slot) {
        slot.next = { send, waiters: [...(slot.next?.waiters ?? []), { resolve, reject }] };
        return;
      }
      this.slots.set(key, { next: undefined });
      void this.drain(key, { send, waiters: [{ resolve, reject }] });
    });
  }

  private async drain(key: string, first: Pending): Promise<void> {
    let current: Pending | undefined = first;
    while (current) {
      try {
        await current.send();
        for (const waiter of current.waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of current.waiters) waiter.reject(error);
      }
      const slot = this.slots.get(key);
      current = slot?.next;
      if (slot) slot.next = undefined;
    }
    this.slots.delete(key);
  }
}

interface Pending {
  readonly send: () => Promise<void>;
  readonly waiters: readonly { resolve(): void; reject(error: unknown): void }[];
}

interface Slot {
  next: Pending | undefined;
}
