import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import {
  type FaultyProxy,
  type S3TestServer,
  startFaultyProxy,
  startS3Server,
} from '../support/s3-server.ts';
import { createWorkerSuite, WAIT, type WorkerSuite } from '../support/worker-harness.ts';

/**
 * Prune against the backups that are being read, with a real restore and a real verification
 * held mid-read: the S3 server's answer to the object's GET is held back by a proxy until the
 * test lets it go.
 */
describe('a prune while a backup is being read', () => {
  let s3: S3TestServer;
  let proxy: FaultyProxy;
  let suite: WorkerSuite;
  let worker: WorkerHandle;

  beforeAll(async () => {
    s3 = await startS3Server();
    proxy = await startFaultyProxy(s3.endpoint);
    suite = await createWorkerSuite(
      'claims',
      () => `defaultProfile: files
storage:
  s3: { bucket: ${s3.bucket}, prefix: claims/, region: us-east-1, endpoint: "${proxy.endpoint}", forcePathStyle: true }
  primary: s3
targets:
  files: { kind: directory, path: ./files, environment: staging }
  copy: { kind: directory, path: ./copy, environment: development }
profiles:
  files: { targets: [files], retention: { keepLast: 1 } }
`,
      {
        env: {
          AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        },
      },
    );
    worker = suite.app.startWorker();
  });

  afterEach(() => {
    proxy.clear();
    proxy.release();
  });

  afterAll(async () => {
    proxy?.release();
    await worker?.close(1_000);
    await suite?.dispose();
    await proxy?.stop();
    await s3?.stop();
  });

  const backUp = async () => {
    const { backupId } = await suite.app.services.backupJobs.enqueue({
      profile: 'files',
      note: null,
      requestedBy: 'console:tester',
      replicate: false,
    });
    const outcome = await suite.app.services.backupJobs.follow(backupId, () => {});
    expect(outcome.status).toBe('completed');
    return backupId;
  };

  /** Holds S3's answer to every read of the backup's object until the test releases it. */
  const holdReadsOf = async (id: string) => {
    proxy.add({
      method: 'GET',
      url: new RegExp(`/claims/${id}/files\\.tar\\.zst`),
      fault: { kind: 'hold-answer' },
    });
  };
  const waitUntilHeld = () =>
    vi.waitFor(() => {
      expect(proxy.held()).toBe(1);
    }, WAIT);
  const prune = () =>
    suite.app.services.retention.prune({ profile: 'files', requestedBy: 'console:tester' });
  const storedKeys = async (id: string) => {
    const keys: string[] = [];
    for await (const object of suite.app.store.list(`${id}/`)) keys.push(object.key);
    return keys;
  };

  it('leaves a backup a restore is staging for the next prune, then deletes it', async () => {
    const older = await backUp();
    await backUp();
    await holdReadsOf(older);
    const { plan } = await suite.app.services.restores.plan({
      backup: older,
      into: { files: 'copy' },
      requestedBy: 'console:tester',
    });
    const { restoreId } = await suite.app.services.restores.enqueue(plan, 'console:tester');
    const following = suite.app.services.restores.follow(restoreId, () => {});
    await waitUntilHeld();

    const report = await prune();
    const [files] = report.profiles;
    expect(files?.deleted).toEqual([]);
    expect(files?.inUse).toEqual([{ id: older, heldBy: [`restore ${restoreId}`] }]);
    expect((await suite.app.catalog.backups.get(older))?.status).toBe('completed');
    expect(await storedKeys(older)).toEqual([`${older}/files.tar.zst`, `${older}/manifest.json`]);

    proxy.clear();
    proxy.release();
    const outcome = await following;
    expect(outcome.status).toBe('completed');
    expect(await readFile(join(suite.dir, 'copy/a.txt'), 'utf8')).toBe('alpha\n');

    const next = await prune();
    expect(next.profiles[0]?.deleted.map((b) => b.id)).toEqual([older]);
    expect(next.profiles[0]?.inUse).toEqual([]);
    expect(await storedKeys(older)).toEqual([]);
    await rm(join(suite.dir, 'copy'), { recursive: true, force: true });
  });

  it('leaves a backup a verification is reading for the next prune, which keeps it as verified', async () => {
    const older = (await suite.app.catalog.backups.latestCompleted('files'))?.id ?? '';
    await backUp();
    await holdReadsOf(older);
    const { verificationId } = await suite.app.services.verifications.enqueue({
      backup: older,
      level: 1,
      requestedBy: 'console:tester',
    });
    const following = suite.app.services.verifications.follow(verificationId, () => {});
    await waitUntilHeld();

    const report = await prune();
    expect(report.profiles[0]?.inUse).toEqual([
      { id: older, heldBy: [`verify ${verificationId}`] },
    ]);
    expect(await storedKeys(older)).toHaveLength(2);

    proxy.clear();
    proxy.release();
    expect((await following).status).toBe('passed');
    const next = (await prune()).profiles[0];
    expect(next?.inUse).toEqual([]);
    expect(next?.kept.find((b) => b.id === older)?.reasons).toEqual(['keep: newest verified']);
  });

  it('records a verification failed when the objects it read disappear before it ends', async () => {
    const id = await backUp();
    await holdReadsOf(id);
    const { verificationId } = await suite.app.services.verifications.enqueue({
      backup: id,
      level: 1,
      requestedBy: 'console:tester',
    });
    const following = suite.app.services.verifications.follow(verificationId, () => {});
    await waitUntilHeld();
    // Deleted behind Lifeboat's back (a person, a bucket lifecycle rule), not by a prune.
    await suite.app.store.deleteAll(`${id}/`);
    proxy.release();

    const record = await following;
    expect(record.status).toBe('failed');
    expect(record.error).toContain(
      `component files: ${suite.app.store.describe(`${id}/manifest.json`)} disappeared from the store while it was verified`,
    );
    expect(record.results?.components[0]).toMatchObject({
      ok: false,
      error: { code: 'object_vanished' },
    });
  });
});
