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

  it.each([
    ['an object name with "/"', { object: 'nested/uploads.tar.zst' }, 'components.0.object'],
    ['an object name with ".."', { object: '..' }, 'components.0.object'],
    ['an object named like the manifest', { object: 'manifest.json' }, 'components.0.object'],
    ['a component name with "/"', { name: '../../etc' }, 'components.0.name'],
    ['a component name with a NUL byte', { name: 'up\0loads' }, 'components.0.name'],
  ])(
    'fails with manifest_invalid for %s, never a key outside the backup',
    async (_, change, path) => {
      const component = { ...MANIFEST.components[0], ...change };
      await write(JSON.stringify({ ...MANIFEST, components: [component] }));
      await expect(readManifest(store, ID)).rejects.toMatchObject({
        code: 'manifest_invalid',
        message: expect.stringContaining(path),
      });
    },
  );

  it('fails with manifest_invalid for two components sharing one object', async () => {
    const [first] = MANIFEST.components as [Manifest['components'][number]];
    await write(JSON.stringify({ ...MANIFEST, components: [first, { ...first, name: 'other' }] }));
    await expect(readManifest(store, ID)).rejects.toMatchObject({
      code: 'manifest_invalid',
      message: expect.stringContaining('object "uploads.tar.zst" appears twice'),
    });
  });

  it('refuses to read the manifest of an id that is not a backup id', async () => {
    await expect(readManifest(store, '../outside')).rejects.toMatchObject({
      code: 'invalid_object_key',
    });
  });
});
