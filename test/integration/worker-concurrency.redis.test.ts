import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BackupRecord } from '../../src/app/services.ts';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import { createWorkerSuite, WAIT, type WorkerSuite } from '../support/worker-harness.ts';

/** `startedAt`–`finishedAt` of a completed backup, in ms. */
function interval(record: BackupRecord): [number, number] {
  if (!record.startedAt || !record.finishedAt) throw new Error(`${record.id} never ran`);
  return [record.startedAt.getTime(), record.finishedAt.getTime()];
}

describe('a worker running two jobs at once', () => {
  let suite: WorkerSuite;
  let worker: WorkerHandle;

  beforeAll(async () => {
    // `shared`, `left` and `right` all dump the gated database: held at the gate, a backup of
    // any of them stays running until the test opens it.
    suite = await createWorkerSuite(
      'concurrency',
      (gated) => `defaultProfile: first
storage: { local: { path: ./backups } }
targets:
  shared: { kind: postgres, url: "${gated}", environment: staging }
  left: { kind: postgres, url: "${gated}", environment: staging }
  right: { kind: postgres, url: "${gated}", environment: staging }
profiles:
  first: { targets: [shared] }
  second: { targets: [shared] }
  left: { targets: [left] }
  right: { targets: [right] }
`,
    );
    worker = suite.app.startWorker({ concurrency: 2 });
  });

  afterAll(async () => {
    await worker?.close(1_000);
    await suite?.dispose();
  });

  const enqueue = (profile: string) =>
    suite.app.services.backupJobs.enqueue({
      profile,
      note: null,
      requestedBy: 'console:tester',
      replicate: false,
    });

  it('runs backups of disjoint targets at the same time', async () => {
    await suite.gate.close();
    const [left, right] = await Promise.all([enqueue('left'), enqueue('right')]);

    // Both dumps wait at the gate at once: the worker really runs two jobs together.
    await suite.gate.waitForWaiting(2);
    expect((await suite.backup(left.backupId)).status).toBe('running');
    expect((await suite.backup(right.backupId)).status).toBe('running');
    await suite.gate.open();

    const [a, b] = await Promise.all([
      suite.waitForStatus(left.backupId, 'completed'),
      suite.waitForStatus(right.backupId, 'completed'),
    ]);
    const [aStart, aEnd] = interval(a);
    const [bStart, bEnd] = interval(b);
    expect(aStart).toBeLessThan(bEnd);
    expect(bStart).toBeLessThan(aEnd);
  });

  it('never runs two backups of one target at once, even with a free slot', async () => {
    await suite.gate.close();
    const messages = new Map<string, string[]>();
    const [first, second] = await Promise.all([enqueue('first'), enqueue('second')]);
    const follows = [first, second].map(({ backupId }) => {
      messages.set(backupId, []);
      return suite.app.services.backupJobs.follow(backupId, (components) => {
        for (const c of components) if (c.message) messages.get(backupId)?.push(c.message);
      });
    });

    // One dump waits at the gate; the other job waits for the target, saying for whom.
    await suite.gate.waitForWaiting(1);
    const holder = await vi.waitFor(async () => {
      const [a, b] = await Promise.all([
        suite.backup(first.backupId),
        suite.backup(second.backupId),
      ]);
      const runningOne = [a, b].filter((r) => r.status === 'running');
      if (runningOne.length !== 1) throw new Error(`${runningOne.length} backups running`);
      return runningOne[0] as BackupRecord;
    }, WAIT);
    const waiter = holder.id === first.backupId ? second.backupId : first.backupId;
    await vi.waitFor(() => {
      expect(messages.get(waiter)).toContain(`waiting for backup ${holder.id} to finish with it`);
    }, WAIT);
    expect(await suite.gate.waiting()).toBe(1);
    expect((await suite.backup(waiter)).status).toBe('queued');
    await suite.gate.open();

    const outcomes = await Promise.all(follows);
    expect(outcomes.map((o) => o.status)).toEqual(['completed', 'completed']);
    const [hStart, hEnd] = interval(await suite.backup(holder.id));
    const [wStart, wEnd] = interval(await suite.backup(waiter));
    expect(hStart).toBeLessThan(hEnd);
    expect(wStart).toBeGreaterThanOrEqual(hEnd);
    expect(wEnd).toBeGreaterThanOrEqual(wStart);
  });
});
