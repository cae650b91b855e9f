import type { Redis } from 'ioredis';

/**
 * Remembers which platform deliveries were taken, so one that arrives again (Slack retries a
 * request it got no answer to in time, with `X-Slack-Retry-Num`; Discord may deliver an
 * interaction twice; two bot replicas behind one URL) runs once. Shared by every bot process
 * through Redis.
 */
export interface DeliveryLedger {
  /**
   * True the first time `key` (a platform-unique id: `slack:trigger:…`, `discord:interaction:…`)
   * is taken within the ledger's memory window, false every time after.
   */
  claim(key: string): Promise<boolean>;
}

/** How long a delivery is remembered: longer than any platform retries for. */
export const DELIVERY_MEMORY_MS = 60 * 60 * 1000;

/** A ledger in Redis: `SET key 1 NX PX window`, atomic across processes. */
export function redisDeliveryLedger(
  redis: Pick<Redis, 'set'>,
  options: { readonly prefix: string; readonly memoryMs?: number },
): DeliveryLedger {
  const memoryMs = options.memoryMs ?? DELIVERY_MEMORY_MS;
  return {
    async claim(key) {
      const result = await redis.set(
        `${options.prefix}:delivery:${key}`,
        '1',
        'PX',
        memoryMs,
        'NX',
      );
      return result === 'OK';
    },
  };
}

/** A ledger in this process only: for tests and single-process tools. */
export function memoryDeliveryLedger(memoryMs: number = DELIVERY_MEMORY_MS): DeliveryLedger {
  const seen = new Map<string, number>();
  return {
    async claim(key) {
      const now = Date.now();
      for (const [k, at] of seen) if (now - at > memoryMs) seen.delete(k);
      if (seen.has(key)) return false;
      seen.set(key, now);
      return true;
    },
  };
}
