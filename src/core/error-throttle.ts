/**
 * What to do with one more occurrence of a repeated error: log it (with how many like it were
 * held back since the last one logged), or hold it back.
 */
export type ThrottleDecision =
  | { readonly log: true; readonly suppressed: number }
  | { readonly log: false };

export interface ErrorThrottle {
  /** Decides for an error of kind `key` (its message, say) happening at `now` (ms). */
  admit(key: string, now: number): ThrottleDecision;
  /** Forgets every kind: the next error of any kind is logged at once (after a recovery). */
  reset(): void;
}

/**
 * Logs the first error of each kind at once and then at most one every `intervalMs`, counting
 * what it held back in between, so that a service retrying a lost connection every second or
 * two leaves one log line per interval instead of a flood. Pure: the caller passes the time.
 */
export function createErrorThrottle(intervalMs: number): ErrorThrottle {
  const kinds = new Map<string, { loggedAt: number; suppressed: number }>();
  return {
    admit(key, now) {
      const seen = kinds.get(key);
      if (seen && now - seen.loggedAt < intervalMs) {
        seen.suppressed++;
        return { log: false };
      }
      kinds.set(key, { loggedAt: now, suppressed: 0 });
      return { log: true, suppressed: seen?.suppressed ?? 0 };
    },
    reset() {
      kinds.clear();
    },
  };
}
