import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import { backupDetailsMessage } from '../../src/bot/views/backup-details.ts';
import { backupCompletedMessage } from '../../src/bot/views/backup-run.ts';
import { renderMessage, stripAnsi } from '../../src/chat/console/render-text.ts';
import { BackupError } from '../../src/core/errors.ts';
import type { BackupJobResult } from '../../src/jobs/job-payloads.ts';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import type { BackupStore } from '../../src/storage/backup-store.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { replicateBackup } from '../../src/storage/replicate-backup.ts';
import { S3BackupStore } from '../../src/storage/s3-backup-store.ts';
import { keysOf } from '../support/backup-outcomes.ts';
import {
  type FaultyProxy,
  type S3TestServer,
  startFaultyProxy,
  startS3Server,
} from '../support/s3-server.ts';
import { createWorkerSuite, WAIT, type WorkerSuite } from '../support/worker-harness.ts';

const MiB = 1024 * 1024;

const renderText = (message: Parameters<typeof renderMessage>[0]) =>
  stripAnsi(renderMessage(message));

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The object keys of the requests that wrote to the bucket, in order (parts by their key). */
function writes(proxy: FaultyProxy, bucket: string): string[] {
  return proxy.requests
    .filter((r) => r.method === 'PUT' || (r.method === 'POST' && /\?uploads/.test(r.url)))
    .map((r) => decodeURIComponent(new URL(r.url, 'http://x').pathname).slice(bucket.length + 2));
}

describe('replicating a backup to S3', () => {
  let s3: S3TestServer;
  let proxy: FaultyProxy;
  let work: string;
  let primary: LocalBackupStore;
  let replica: S3BackupStore;
  let manifest: Manifest;

  beforeAll(async () => {
    s3 = await startS3Server();
  });

  afterAll(async () => {
    await s3?.stop();
  });

  beforeEach(async () => {
    proxy = await startFaultyProxy(s3.endpoint);
    work = await mkdtemp(join(tmpdir(), 'lifeboat-replication-'));
    await mkdir(join(work, 'uploads/nested'), { recursive: true });
    await mkdir(join(work, 'docs'), { recursive: true });
    // Incompressible, so that the stored object spans several 5 MiB parts.
    await writeFile(join(work, 'uploads/nested/photo.raw'), randomBytes(12 * MiB));
    await writeFile(join(work, 'uploads/a.txt'), 'alpha\n');
    await writeFile(join(work, 'docs/guide.md'), '# Guide\n');
    primary = new LocalBackupStore({ root: join(work, 'store') });
    replica = new S3BackupStore({
      config: s3.config({ endpoint: proxy.endpoint, prefix: `replication-${Date.now()}/` }),
      credentials: s3.credentials,
      partSize: 5 * MiB,
      maxAttempts: 2,
    });
    const directory = (path: string) => ({
      kind: 'directory' as const,
      path: join(work, path),
      include: [],
      exclude: [],
      environment: 'staging' as const,
    });
    manifest = await runBackup({
      id: 'bk_20261122T020000Z_files_repl',
      profile: 'files',
      note: null,
      requestedBy: 'console:alice',
      targets: [
        { name: 'uploads', config: directory('uploads') },
        { name: 'docs', config: directory('docs') },
      ],
      compression: 'zstd',
      store: primary,
    });
  });

  afterEach(async () => {
    replica.close();
    await proxy.stop();
    await rm(work, { recursive: true, force: true });
  });

  const replicate = (to: BackupStore = replica) =>
    replicateBackup({
      backupId: manifest.id,
      objects: manifest.components,
      last: 'manifest.json',
      from: primary,
      to,
    });

  it('copies every object byte for byte, the manifest last', async () => {
    const copied = await replicate();
    const id = manifest.id;

    const keys = [`${id}/docs.tar.zst`, `${id}/manifest.json`, `${id}/uploads.tar.zst`];
    expect(await keysOf(replica, `${id}/`)).toEqual(keys);
    for (const key of keys) {
      expect(await sha256Of(await replica.get(key))).toBe(await sha256Of(await primary.get(key)));
    }
    const written = writes(proxy, s3.bucket);
    expect(written.at(-1)).toBe(`${replica.prefix}${id}/manifest.json`);
    expect(written.filter((k) => k.endsWith('uploads.tar.zst')).length).toBeGreaterThan(2);
    const manifestBytes = (await primary.stat(`${id}/manifest.json`))?.bytes ?? 0;
    expect(copied).toEqual({
      store: 's3',
      location: `s3://${s3.bucket}/${replica.prefix}${id}`,
      bytes: manifest.components.reduce((sum, c) => sum + c.bytes, 0) + manifestBytes,
      skipped: 0,
    });
  });

  it('copies again without rewriting the objects already there', async () => {
    await replicate();
    const before = proxy.requests.length;
    const again = await replicate();

    expect(again.skipped).toBe(2);
    const rewritten = writes({ ...proxy, requests: proxy.requests.slice(before) }, s3.bucket);
    expect(rewritten).toEqual([`${replica.prefix}${manifest.id}/manifest.json`]);
    expect(await keysOf(replica, `${manifest.id}/`)).toHaveLength(3);
  });

  it('refuses a primary object that does not match the manifest, leaving no partial copy', async () => {
    const file = join(work, 'store', manifest.id, 'uploads.tar.zst');
    const handle = await open(file, 'r+');
    // Flip the byte rather than overwrite it: random data already holds any given value 1 time in 256.
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, 6 * MiB);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await handle.write(byte, 0, 1, 6 * MiB);
    await handle.close();

    const error = await replicate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupError);
    expect((error as BackupError).code).toBe('replica_failed');
    expect((error as Error).message).toContain(`failed at ${manifest.id}/uploads.tar.zst`);
    expect((error as Error).message).toContain('does not match the manifest');
    expect(await keysOf(replica, '')).toEqual([]);
    expect(await s3.unfinishedUploads()).toEqual([]);
  });

  it('fails naming the store and the object when S3 keeps answering 500', async () => {
    proxy.add({ method: 'PUT', fault: { kind: 'status' } });
    const error = await replicate().catch((e: unknown) => e);
    expect((error as BackupError).code).toBe('replica_failed');
    expect((error as Error).message).toContain(
      `copying backup ${manifest.id} to the s3 store (s3://${s3.bucket}/${replica.prefix}${manifest.id}) failed at ${manifest.id}/uploads.tar.zst`,
    );
    expect((error as Error).message).toContain('InternalError (HTTP 500)');
    proxy.clear();
    expect(await keysOf(replica, '')).toEqual([]);
  });
});

describe('backups replicated by the worker', () => {
  let s3: S3TestServer;
  let proxy: FaultyProxy;
  let suite: WorkerSuite;
  let worker: WorkerHandle;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    s3 = await startS3Server();
    proxy = await startFaultyProxy(s3.endpoint);
    // The SDK's default chain reads these, as in production.
    process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    suite = await createWorkerSuite(
      'replicas',
      () => `defaultProfile: files
storage:
  local: { path: ./backups }
  s3: { bucket: ${s3.bucket}, prefix: lifeboat/, endpoint: "${proxy.endpoint}", forcePathStyle: true }
  primary: local
  replicas: [s3]
targets:
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  files: { targets: [files] }
`,
    );
    worker = suite.app.startWorker();
  });

  afterAll(async () => {
    await worker?.close(1_000);
    await suite?.dispose();
    await proxy?.stop();
    await s3?.stop();
    process.env = savedEnv;
  });

  afterEach(() => proxy.clear());

  const backUp = async (replicate = true) => {
    const { backupId, jobId } = await suite.app.services.backupJobs.enqueue({
      profile: 'files',
      note: null,
      requestedBy: 'console:alice',
      replicate,
    });
    const outcome = await suite.app.services.backupJobs.follow(backupId, () => {});
    const job = await vi.waitFor(async () => {
      const recorded = await suite.app.catalog.jobs.get(jobId);
      if (recorded?.status !== 'completed') throw new Error(`job ${jobId} is ${recorded?.status}`);
      return recorded;
    }, WAIT);
    return { backupId, outcome, result: job.result as BackupJobResult | undefined };
  };

  it('copies a completed backup to the replica and says where it went', async () => {
    const { backupId, outcome, result } = await backUp();
    const location = `s3://${s3.bucket}/lifeboat/${backupId}`;

    expect(outcome.status).toBe('completed');
    expect(outcome.backup.replicas).toEqual([
      expect.objectContaining({ store: 's3', status: 'completed', location, error: null }),
    ]);
    expect(result?.replicas).toEqual([{ store: 's3', status: 'completed', location }]);
    const [s3Store] = suite.app.replicas;
    if (!s3Store) throw new Error('no replica store');
    expect(await keysOf(s3Store, `${backupId}/`)).toEqual(await suite.objectsOf(backupId));
    expect(renderText(backupCompletedMessage(outcome.backup))).toContain(location);
  });

  it('keeps the backup completed when the replica fails, recording and reporting the failure', async () => {
    proxy.add({ method: 'PUT', fault: { kind: 'status' } });
    const { backupId, outcome, result } = await backUp();

    expect(outcome.status).toBe('completed');
    const backup = await suite.backup(backupId);
    expect(backup.status).toBe('completed');
    expect(await suite.objectsOf(backupId)).toContain(`${backupId}/manifest.json`);
    const [recorded] = backup.replicas ?? [];
    expect(recorded?.status).toBe('failed');
    expect(recorded?.error).toContain('InternalError (HTTP 500)');
    expect(result?.replicas?.[0]).toMatchObject({ store: 's3', status: 'failed' });
    expect(result?.replicas?.[0]?.error).toContain(`failed at ${backupId}/files.tar.zst`);

    const completedText = renderText(backupCompletedMessage(outcome.backup));
    expect(completedText).toContain('The copy to the s3 replica failed');
    const shown = renderText(backupDetailsMessage(backup, new Date()));
    expect(shown).toContain('Replica (s3)');
    expect(shown).toContain('failed: copying backup');
  });

  it('copies nothing with --no-replicate', async () => {
    const before = proxy.requests.length;
    const { backupId, outcome, result } = await backUp(false);
    expect(outcome.status).toBe('completed');
    expect(outcome.backup.replicas).toEqual([]);
    expect(result?.replicas).toBeUndefined();
    expect(proxy.requests.slice(before)).toEqual([]);
    expect(await suite.objectsOf(backupId)).toHaveLength(2);
  });
});
