import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRestoreChecks } from '../../src/jobs/restore-check-jobs.ts';
import { planFor } from '../../src/jobs/restore-jobs.ts';
import { type WorkerHandle, workerName } from '../../src/jobs/worker.ts';
import type { App } from '../../src/main.ts';
import { waitForWorker } from '../support/queues.ts';
import { createWorkerSuite, WAIT, type WorkerSuite } from '../support/worker-harness.ts';

const config = (gated: string, restoredTarget = true) => `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  gated: { kind: postgres, url: "${gated}", environment: staging }
${restoredTarget ? '  restored: { kind: directory, path: ./restored, environment: staging }\n' : ''}profiles:
  files: { targets: [files] }
  gated: { targets: [gated] }
`;

/**
 * A planner asks a worker, through the real queue, for the facts of a restore: the answer of
 * the worker that took it, or, when none answers, why not — never facts of its own.
 */
describe('restore checks asked of a worker', () => {
  let suite: WorkerSuite;
  let planner: App;
  let filesBackup: string;
  let gatedBackup: string;
  const workers: WorkerHandle[] = [];
  const requestedBy = 'console:alice';

  const backUp = async (profile: string) => {
    const { backupId } = await suite.app.services.backupJobs.enqueue({
      profile,
      note: null,
      requestedBy,
      replicate: false,
    });
    return backupId;
  };
  const planOf = async (backupId: string, into?: Record<string, string>) => {
    const backup = await suite.backup(backupId);
    const { plan } = planFor(planner.loaded.config, backup, into ? { into } : {});
    return { plan, manifest: backup.manifest ?? assertNever() };
  };

  beforeAll(async () => {
    suite = await createWorkerSuite('checks', (gated) => config(gated));
    workers.push(suite.app.startWorker());
    filesBackup = await backUp('files');
    gatedBackup = await backUp('gated');
    await suite.waitForStatus(filesBackup, 'completed');
    await suite.waitForStatus(gatedBackup, 'completed');
    // The planner runs no worker: a bot.
    planner = await suite.openApp();
  }, 60_000);

  afterAll(async () => {
    await suite.gate.open();
    for (const worker of workers) await worker.close(1_000);
    await suite?.dispose();
  });

  it('gets the facts from the worker that took the check, and says which', async () => {
    const check = createRestoreChecks({ queue: planner.queue, config: planner.loaded.config });
    const { plan, manifest } = await planOf(filesBackup, { files: 'restored' });
    expect(await check(plan, manifest, requestedBy)).toEqual({
      ran: true,
      where: `on the worker ${workerName()}`,
      problems: [],
      // What the worker's writability check of the directory destination covered.
      checked: [
        expect.stringMatching(
          /^`restored`: .*\/restored does not exist yet; .*, where it is created, can be written$/,
        ),
      ],
    });
  });

  it('says no worker answered when the only one is busy, and takes the check off the queue', async () => {
    for (const worker of workers.splice(0)) await worker.close(1_000);
    workers.push(suite.app.startWorker({ concurrency: 1 }));
    await suite.gate.close();
    const held = await backUp('gated');
    await suite.gate.waitForWaiting(1);

    const check = createRestoreChecks({
      queue: planner.queue,
      config: planner.loaded.config,
      waitMs: 1_000,
    });
    const { plan, manifest } = await planOf(gatedBackup);
    expect(await check(plan, manifest, requestedBy)).toEqual({
      ran: false,
      why: 'no worker answered within 1 s',
      seenHere: ['`gated` answers'],
    });
    // Only the held backup is left: no worker runs the check later for nobody.
    expect(await planner.queue.counts()).toMatchObject({ waiting: 0, active: 1 });

    await suite.gate.open();
    await suite.waitForStatus(held, 'completed');
  });

  it('says no worker serves the queue, leaving out directories it cannot see from here', async () => {
    for (const worker of workers.splice(0)) await worker.close(1_000);
    await vi.waitFor(async () => expect(await planner.queue.workerCount()).toBe(0), WAIT);
    const check = createRestoreChecks({ queue: planner.queue, config: planner.loaded.config });
    const files = await planOf(filesBackup, { files: 'restored' });
    expect(await check(files.plan, files.manifest, requestedBy)).toEqual({
      ran: false,
      why: 'no worker serves the queue',
      seenHere: [],
    });
  });

  it('says the check failed on the worker, with why, when the worker cannot plan it', async () => {
    // A worker whose config lacks the destination: another config, or another version.
    const other = await suite.openApp(config(suite.gate.url, false));
    workers.push(other.startWorker());
    await waitForWorker(suite.env.LIFEBOAT_QUEUE_PREFIX ?? '');
    const check = createRestoreChecks({ queue: planner.queue, config: planner.loaded.config });
    const { plan, manifest } = await planOf(filesBackup, { files: 'restored' });
    const report = await check(plan, manifest, requestedBy);
    expect(report).toMatchObject({ ran: false, seenHere: [] });
    expect(report.ran ? '' : report.why).toMatch(
      /^the check failed on the worker that took it: unknown target "restored"/,
    );
  });
});

function assertNever(): never {
  throw new Error('the backup has no manifest');
}
