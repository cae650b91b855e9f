import { describe, expect, it } from 'vitest';
import { ServiceUnavailableError } from '../../../src/core/errors.ts';
import type { JobPayload } from '../../../src/jobs/job-payloads.ts';
import type { JobAnswer, JobQueue } from '../../../src/jobs/queue.ts';
import { createRestoreChecks } from '../../../src/jobs/restore-check-jobs.ts';
import { planRestore } from '../../../src/restore/plan-restore.ts';
import type { RestoreFacts } from '../../../src/restore/restore-checks.ts';
import { sampleComponent, sampleManifest } from '../../doubles/sample-backups.ts';
import { testConfig } from '../../doubles/test-config.ts';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const config = testConfig({
  targets: {
    'app-db': { kind: 'postgres', url: 'postgres://127.0.0.1:5432/app', environment: 'staging' },
    uploads: { kind: 'directory', path: '/srv/uploads', environment: 'staging' },
  },
  profiles: { full: { targets: ['app-db', 'uploads'] } },
});
const manifest = sampleManifest(
  { id: 'bk_20261122T020000Z_full_7q3k', profile: 'full', note: null, requestedBy: 'cli:x' },
  [
    {
      ...sampleComponent('app-db', 'postgres'),
      encryption: { format: 'age' as const, recipients: [RECIPIENT] },
    },
    sampleComponent('uploads', 'directory'),
  ],
  '/backups/bk_20261122T020000Z_full_7q3k',
  new Date('2026-11-22T02:00:00Z'),
);
const plan = planRestore({ manifest, config, selection: {} });

const noIdentity: RestoreFacts = {
  identities: [],
  tools: { pg_restore: true, tar: true },
  destinations: { 'app-db': null, uploads: null },
  refusals: { 'app-db': null },
  staging: { directory: '/tmp', freeBytes: 10 ** 12 },
};

/** A queue whose workers answer as told, recording what was asked of them. */
function queueOf(workers: number | Error, answer: JobAnswer = { status: 'unanswered' }) {
  const asked: JobPayload[] = [];
  const queue: Pick<JobQueue, 'workerCount' | 'ask'> = {
    async workerCount() {
      if (workers instanceof Error) throw workers;
      return workers;
    },
    async ask(payload) {
      asked.push(payload);
      return answer;
    },
  };
  return { queue, asked };
}

/** What this process sees of the destinations: `app-db` answers. */
const reach = async () => ({ 'app-db': null });

describe('checking a restore where restores run', () => {
  it('asks a worker for the components and destinations, and judges its facts, naming it', async () => {
    const { queue, asked } = queueOf(2, {
      status: 'completed',
      value: { worker: 'lifeboat-worker@db1:42', facts: noIdentity },
    });
    const report = await createRestoreChecks({ queue, config, reach })(
      plan,
      manifest,
      'console:alice',
    );
    expect(asked).toEqual([
      expect.objectContaining({
        kind: 'restore-check',
        backupId: manifest.id,
        components: [
          { component: 'app-db', destination: 'app-db' },
          { component: 'uploads', destination: 'uploads' },
        ],
        requestedBy: 'console:alice',
      }),
    ]);
    expect(report).toMatchObject({ ran: true, where: 'on the worker lifeboat-worker@db1:42' });
    expect(report.ran && report.problems.map((p) => p.message)).toEqual([
      expect.stringContaining(
        'no age identity is available on the worker lifeboat-worker@db1:42 to open it',
      ),
    ]);
  });

  it('never gathers its own facts while a worker serves the queue', async () => {
    const { queue } = queueOf(1, { status: 'unanswered' });
    const report = await createRestoreChecks({
      queue,
      config,
      reach,
      waitMs: 12_000,
      gatherHere: () => Promise.reject(new Error('gathered here')),
    })(plan, manifest, 'console:alice');
    expect(report).toEqual({
      ran: false,
      why: 'no worker answered within 12 s',
      seenHere: ['`app-db` answers'],
    });
  });

  it('gathers here when no worker serves the queue, only in a process that runs its own jobs', async () => {
    const { queue, asked } = queueOf(0);
    const runsOwn = await createRestoreChecks({
      queue,
      config,
      reach,
      gatherHere: async () => noIdentity,
    })(plan, manifest, 'cli:root');
    expect(runsOwn).toMatchObject({ ran: true, where: 'here' });
    expect(runsOwn.ran && runsOwn.problems[0]?.message).toContain(
      'no age identity is available here',
    );
    const bot = await createRestoreChecks({ queue, config, reach })(plan, manifest, 'slack:U1');
    expect(bot).toEqual({
      ran: false,
      why: 'no worker serves the queue',
      seenHere: ['`app-db` answers'],
    });
    expect(asked).toEqual([]);
  });

  it('says Redis is down, in a clause, and refuses nothing', async () => {
    const down = new ServiceUnavailableError(
      'service_unavailable',
      'Cannot reach Redis (job queue) at redis://127.0.0.1:6390: connection refused.\nTo get one: …',
    );
    const report = await createRestoreChecks({ queue: queueOf(down).queue, config, reach })(
      plan,
      manifest,
      'console:alice',
    );
    expect(report).toEqual({
      ran: false,
      why: 'Cannot reach Redis (job queue) at redis://127.0.0.1:6390: connection refused, so no worker could be asked',
      seenHere: ['`app-db` answers'],
    });
  });

  it('does not take an answer it cannot read for facts', async () => {
    const { queue } = queueOf(1, { status: 'completed', value: { ok: true } });
    const report = await createRestoreChecks({ queue, config, reach })(plan, manifest, 'x:y');
    expect(report).toMatchObject({ ran: false, why: expect.stringContaining('another version') });
  });
});
