/**
 * How long Slack asked to wait (its `Retry-After`, in ms) when `error` is the Web API's
 * rate-limited error (`rejectRateLimitedCalls`), or undefined for any other error.
 */
export function retryAfterMs(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, retryAfter } = error as { code?: unknown; retryAfter?: unknown };
  if (code !== 'slack_webapi_rate_limited_error') return undefined;
  return typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0
    ? retryAfter * 1000
    : 1000;
}

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Runs `call`, and when Slack answers 429 waits its `Retry-After` and runs it again, up to
 * `attempts` times in all.
 */
export async function withRateLimit<T>(call: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const wait = retryAfterMs(error);
      if (wait === undefined || attempt >= attempts) throw error;
      await sleep(wait);
    }
  }
}
