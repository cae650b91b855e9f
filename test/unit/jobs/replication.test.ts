import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST_FORMAT, type Manifest } from '../../../src/backup/manifest.ts';
import type { ReplicaRecord, ReplicaRepository } from '../../../src/catalog/replica-repository.ts';
import { replicateToReplicas } from '../../../src/jobs/replication.ts';
import type { BackupStore } from '../../../src/storage/backup-store.ts';
import { LocalBackupStore } from '../../../src/storage/local-backup-store.ts';

const ID = 'bk_20261122T020000Z_files_0001';

/** The catalog's replica rows, in memory. */
function memoryReplicas(): ReplicaRepository & { rows: Map<string, ReplicaRecord> } {
  const rows = new Map<string, ReplicaRecord>();
  const update = (store: string, change: Partial<ReplicaRecord>) => {
    const row = rows.get(store);
    if (!row) throw new Error(`no row for ${store}`);
    const next = { ...row, ...change };
    rows.set(store, next);
    return Promise.resolve(next);
  };
  return {
    rows,
    markRunning(backupId, store, location) {
      const row: ReplicaRecord = {
        backupId,
        store,
        location,
        status: 'running',
        error: null,
        bytes: null,
        finishedAt: null,
      };
      rows.set(store, row);
      return Promise.resolve(row);
    },
    markCompleted: (_id, store, bytes) =>
      update(store, { status: 'completed', bytes, finishedAt: new Date() }),
    markFailed: (_id, store, error) =>
      update(store, { status: 'failed', error, finishedAt: new Date() }),
    listFor: () => Promise.resolve([...rows.values()]),
  };
}

/** A replica store whose every write fails, as an unreachable bucket would. */
function brokenStore(inner: BackupStore): BackupStore {
  return {
    ...inner,
    name: 's3',
    describe: (key) => `s3://backups/${key}`,
    put: async (key, body) => {
      body.destroy();
      throw new Error(`S3 answered InternalError (HTTP 500) while uploading ${key}`);
    },
    putBytes: () => Promise.reject(new Error('S3 answered InternalError (HTTP 500)')),
    stat: inner.stat.bind(inner),
    list: inner.list.bind(inner),
    get: inner.get.bind(inner),
    delete: inner.delete.bind(inner),
    deleteAll: inner.deleteAll.bind(inner),
  };
}

describe('copying a completed backup to its replicas', () => {
  let dir: string;
  let primary: LocalBackupStore;
  let mirror: LocalBackupStore;
  let lines: Record<string, unknown>[];
  let manifest: Manifest;

  const logger = () =>
    pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(JSON.parse(chunk.toString()));
          callback();
        },
      }),
    );

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-replication-unit-'));
    primary = new LocalBackupStore({ root: join(dir, 'primary') });
    mirror = new LocalBackupStore({ root: join(dir, 'mirror') });
    lines = [];
    const body = Buffer.from('tar bytes');
    await primary.putBytes(`${ID}/files.tar`, body);
    manifest = {
      format: MANIFEST_FORMAT,
      id: ID,
      profile: 'files',
      note: null,
      requestedBy: 'console:alice',
      lifeboatVersion: '0.1.0',
      startedAt: '2026-11-22T02:00:00.000Z',
      finishedAt: '2026-11-22T02:00:01.000Z',
      durationMs: 1000,
      storage: [{ store: 'local', location: primary.describe(ID) }],
      components: [
        {
          name: 'files',
          kind: 'directory',
          object: 'files.tar',
          bytes: body.length,
          sha256: createHash('sha256').update(body).digest('hex'),
          rawBytes: body.length,
          compression: 'none',
          encryption: null,
          tools: {},
          startedAt: '2026-11-22T02:00:00.000Z',
          finishedAt: '2026-11-22T02:00:01.000Z',
          durationMs: 1000,
          source: {
            kind: 'directory',
            path: '/srv/files',
            include: [],
            exclude: [],
            counts: 'archive',
            files: 1,
            directories: 0,
            bytes: body.length,
            warnings: [],
          },
        },
      ],
    };
    await primary.putBytes(`${ID}/manifest.json`, Buffer.from(JSON.stringify(manifest)));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records a good copy and a failed one, and raises an alert for the failed one only', async () => {
    const records = memoryReplicas();
    const results = await replicateToReplicas({
      manifest,
      primary,
      replicas: [mirror, brokenStore(new LocalBackupStore({ root: join(dir, 'broken') }))],
      records,
      logger: logger(),
    });

    expect(results).toEqual([
      { store: 'local', status: 'completed', location: mirror.describe(ID) },
      {
        store: 's3',
        status: 'failed',
        location: `s3://backups/${ID}`,
        error: expect.stringContaining(`failed at ${ID}/files.tar: S3 answered InternalError`),
      },
    ]);
    expect(records.rows.get('local')?.status).toBe('completed');
    expect(records.rows.get('s3')).toMatchObject({ status: 'failed' });
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ alert: 'replica_failed', store: 's3', backupId: ID });
    expect(String(warnings[0]?.msg)).toContain(`ALERT: backup ${ID} is complete, but its copy`);
  });

  it('leaves alone, on a retry, the replicas the catalog has as completed', async () => {
    const records = memoryReplicas();
    await records.markRunning(ID, 'local', mirror.describe(ID));
    await records.markCompleted(ID, 'local', 9);
    const results = await replicateToReplicas({
      manifest,
      primary,
      replicas: [mirror],
      records,
      logger: logger(),
      onlyMissing: true,
    });
    expect(results).toEqual([
      { store: 'local', status: 'completed', location: mirror.describe(ID) },
    ]);
    expect(await mirror.stat(`${ID}/manifest.json`)).toBeUndefined();
  });

  it('copies nothing when the manifest in the primary store is not the one in hand', async () => {
    const records = memoryReplicas();
    const edited = {
      ...manifest,
      note: 'edited',
      components: manifest.components.map((c) => ({ ...c, rawBytes: 1 })),
    };
    await primary.putBytes(`${ID}/manifest.json`, Buffer.from(JSON.stringify(edited)));
    const results = await replicateToReplicas({
      manifest,
      primary,
      replicas: [mirror],
      records,
      logger: logger(),
    });
    expect(results).toEqual([
      {
        store: 'local',
        status: 'failed',
        location: mirror.describe(ID),
        error: expect.stringContaining(
          'component files: rawBytes 1 in the store, 9 in the catalog',
        ),
      },
    ]);
    expect(await mirror.stat(`${ID}/manifest.json`)).toBeUndefined();
    expect(await mirror.stat(`${ID}/files.tar`)).toBeUndefined();
  });
});
