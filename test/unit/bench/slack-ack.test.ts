import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../../../bench/options.ts';
import { quantile, renderAck } from '../../../bench/slack-ack.ts';

describe('npm run bench -- --ack', () => {
  it('is a mode of its own on the bench command line', () => {
    expect(parseBenchOptions(['--ack'], {}).ack).toBe(true);
    expect(parseBenchOptions([], {}).ack).toBeUndefined();
  });

  it('takes the nearest-rank quantiles', () => {
    const sorted = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(100);
    expect(quantile(sorted, 0.99)).toBe(198);
    expect(quantile([], 0.99)).toBe(0);
  });

  it('prints p50, p99 and whether the goal was met', () => {
    const text = renderAck(
      {
        command: '/backup list --limit 5',
        commands: 200,
        concurrency: 50,
        backups: 4,
        p50Ms: 12,
        p99Ms: 420,
        maxMs: 500,
        failures: 0,
        goalP99Ms: 300,
        met: false,
      },
      'test machine',
    );
    expect(text).toContain('p50   12.0 ms');
    expect(text).toContain('p99   420.0 ms   goal ≤ 300 ms: NOT met');
  });
});
