import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST_FORMAT, type Manifest } from '../../../src/backup/manifest.ts';
import { readManifest } from '../../../src/backup/read-manifest.ts';
import { LocalBackupStore } from '../../../src/storage/local-backup-store.ts';

const ID = 'bk_20261122T020000Z_full_7q3k';

const MANIFEST: Manifest = {
  format: MANIFEST_FORMAT,
  id: ID,
  profile: 'full',
  note: null,
  requestedBy: 'schedule:full',
  lifeboatVersion: '0.1.0',
  startedAt: '2026-11-22T02:00:00.000Z',
  finishedAt: '2026-11-22T02:00:05.000Z',
  durationMs: 5000,
  storage: [{ store: 'local', location: `/backups/${ID}` }],
  components: [
    {
      name: 'uploads',
      kind: 'directory',
      object: 'uploads.tar.zst',
      bytes: 10,
      sha256: 'a'.repeat(64),
      rawBytes: 20,
      compression: 'zstd',
      encryption: null,
      tools: { tar: 'GNU tar 1.34' },
      startedAt: '2026-11-22T02:00:00.000Z',
      finishedAt: '2026-11-22T02:00:05.000Z',
      durationMs: 5000,
      source: {
        kind: 'directory',
        path: '/srv/uploads',
        include: [],
        exclude: ['*.tmp'],
        counts: 'archive',
        files: 1,
        directories: 0,
        bytes: 20,
        warnings: [],
      },
    },
  ],
};

describe('reading a backup manifest', () => {
  let root: string;
  let store: LocalBackupStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeboat-manifest-'));
    store = new LocalBackupStore({ root });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const write = (body: string) => store.putBytes(`${ID}/manifest.json`, Buffer.from(body));

  it('returns the validated manifest', async () => {
    await write(JSON.stringify(MANIFEST));
    expect(await readManifest(store, ID)).toEqual(MANIFEST);
  });

  it('fails with manifest_not_found for a backup without a manifest', async () => {
    await store.putBytes(`${ID}/uploads.tar.zst`, Buffer.from('partial'));
    await expect(readManifest(store, ID)).rejects.toMatchObject({
      code: 'manifest_not_found',
      message: expect.stringContaining(ID),
    });
  });

  it('fails with manifest_invalid for a file that is not JSON', async () => {
    await write('{"format": "lifeboat.manifest/v1", ');
    await expect(readManifest(store, ID)).rejects.toMatchObject({ code: 'manifest_invalid' });
  });

  it('fails with manifest_invalid naming the field that does not validate', async () => {
    await write(
      JSON.stringify({ ...MANIFEST, components: [{ ...MANIFEST.components[0], sha256: 'nope' }] }),
    );
    await expect(readManifest(store, ID)).rejects.toMatchObject({
      code: 'manifest_invalid',
      message: expect.stringContaining('components.0.sha256'),
    });
  });

  it('fails with manifest_invalid when the manifest describes another backup', async () => {
    await write(JSON.stringify({ ...MANIFEST, id: 'bk_20261122T020000Z_full_zzzz' }));
    await expect(readManifest(store, ID)).rejects.toMatchObject({ code: 'manifest_invalid' });
  });
});
