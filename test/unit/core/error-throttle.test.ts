import { describe, expect, it } from 'vitest';
import { createErrorThrottle } from '../../../src/core/error-throttle.ts';

describe('the error throttle', () => {
  it('logs the first error of a kind, then one per interval with the count held back', () => {
    const throttle = createErrorThrottle(60_000);
    expect(throttle.admit('ECONNREFUSED', 0)).toEqual({ log: true, suppressed: 0 });
    for (let t = 2_000; t < 60_000; t += 2_000) {
      expect(throttle.admit('ECONNREFUSED', t)).toEqual({ log: false });
    }
    expect(throttle.admit('ECONNREFUSED', 60_000)).toEqual({ log: true, suppressed: 29 });
    expect(throttle.admit('ECONNREFUSED', 61_000)).toEqual({ log: false });
  });

  it('keeps kinds apart, and starts afresh after a reset', () => {
    const throttle = createErrorThrottle(60_000);
    expect(throttle.admit('a', 0).log).toBe(true);
    expect(throttle.admit('b', 1).log).toBe(true);
    expect(throttle.admit('a', 2).log).toBe(false);
    throttle.reset();
    expect(throttle.admit('a', 3)).toEqual({ log: true, suppressed: 0 });
  });
});
