import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ComponentProgress } from '../../../src/backup/progress.ts';
import { ProgressReporter } from '../../../src/jobs/progress-reporter.ts';
import { silentLogger } from '../../../src/logging/logger.ts';

type Sent = { components: ComponentProgress[] };

function running(component: string, rawBytes: number): ComponentProgress {
  return {
    component,
    phase: 'running',
    rawBytes,
    storedBytes: rawBytes,
    expectedBytes: null,
    bytesPerSecond: 0,
  };
}

describe('progress sent to the queue', () => {
  let sent: Sent[];
  let reporter: ProgressReporter;
  const phases = (snapshot: Sent | undefined) =>
    snapshot?.components.map((c) => `${c.component}:${c.phase}:${c.rawBytes}`);

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    reporter = new ProgressReporter(
      {
        logger: silentLogger(),
        reportProgress: async (data) => {
          sent.push(data as Sent);
        },
      },
      ['db', 'files'],
      500,
    );
  });

  afterEach(() => {
    reporter.stop();
    vi.useRealTimers();
  });

  it('sends the first update at once and holds the next ones back for the interval', async () => {
    reporter.update(running('db', 1));
    reporter.update(running('db', 2));
    reporter.update(running('db', 3));
    await vi.advanceTimersByTimeAsync(0);

    expect(sent.map(phases)).toEqual([['db:running:1', 'files:waiting:0']]);
  });

  it('sends an update held back by the interval when the interval ends, though nothing follows it', async () => {
    reporter.update(running('db', 1));
    reporter.waiting('files', 'waiting for backup bk_other to finish with it');
    await vi.advanceTimersByTimeAsync(499);
    expect(sent).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(1);

    expect(sent).toHaveLength(2);
    expect(sent[1]?.components[1]?.message).toBe('waiting for backup bk_other to finish with it');
  });

  it('sends a component that finished at once, with everything else as it stands', async () => {
    reporter.update(running('db', 1));
    reporter.update({ ...running('db', 9), phase: 'done' });
    await vi.advanceTimersByTimeAsync(0);

    expect(sent.map(phases)).toEqual([
      ['db:running:1', 'files:waiting:0'],
      ['db:done:9', 'files:waiting:0'],
    ]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(2);
  });

  it('sends nothing more once stopped, not even a held-back update', async () => {
    reporter.update(running('db', 1));
    reporter.update(running('db', 2));
    reporter.stop();
    await vi.advanceTimersByTimeAsync(1_000);

    expect(sent).toHaveLength(1);
  });
});
