import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { describeBackupStoreContract } from './backup-store.contract.ts';

describeBackupStoreContract('local', async () => {
  const root = await mkdtemp(join(tmpdir(), 'lifeboat-store-'));
  return {
    store: new LocalBackupStore({ root: join(root, 'backups') }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('the local backup store on disk', () => {
  let root: string;
  let store: LocalBackupStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeboat-store-'));
    store = new LocalBackupStore({ root });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores a key as the file of the same relative path under its root', async () => {
    await store.putBytes('bk_a/app-db.dump', Buffer.from('dump'));
    expect((await stat(join(root, 'bk_a', 'app-db.dump'))).size).toBe(4);
  });

  it('creates objects 0600 in directories 0700, every level it makes, whatever the umask', async () => {
    const umask = process.umask(0o022);
    try {
      const nested = new LocalBackupStore({ root: join(root, 'srv', 'backups') });
      await nested.putBytes('bk_a/app-db.dump', Buffer.from('dump'));
      await nested.putBytes('bk_a/manifest.json', Buffer.from('{}'));
      const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
      expect(await modeOf(join(root, 'srv', 'backups', 'bk_a', 'app-db.dump'))).toBe(0o600);
      expect(await modeOf(join(root, 'srv', 'backups', 'bk_a', 'manifest.json'))).toBe(0o600);
      expect(await modeOf(join(root, 'srv', 'backups', 'bk_a'))).toBe(0o700);
      expect(await modeOf(join(root, 'srv', 'backups'))).toBe(0o700);
      expect(await modeOf(join(root, 'srv'))).toBe(0o700);
    } finally {
      process.umask(umask);
    }
  });

  it('describes a key as its absolute file path and a backup id as its directory', () => {
    expect(store.describe('bk_a/app-db.dump')).toBe(join(root, 'bk_a', 'app-db.dump'));
    expect(isAbsolute(store.describe('bk_a/app-db.dump'))).toBe(true);
    expect(store.describe('bk_a')).toBe(join(root, 'bk_a'));
  });

  it('leaves no temporary file on disk after a failed put', async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(1024 * 1024, 1);
        throw new Error('broken source');
      })(),
    );
    await expect(store.put('bk_a/app-db.dump', failing)).rejects.toThrow('broken source');
    const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) =>
      e.isFile(),
    );
    expect(files).toEqual([]);
  });

  it('does not list a put that is still in flight', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const body = Readable.from(
      (async function* () {
        yield Buffer.alloc(1000, 1);
        await held;
        yield Buffer.alloc(1000, 2);
      })(),
    );
    const put = store.put('bk_a/slow.dump', body);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const onDisk = await readdir(join(root, 'bk_a'));
    expect(onDisk).toHaveLength(1);
    expect(onDisk[0]).toMatch(/^\.slow\.dump\.partial-[0-9a-z]+$/);
    const listed = [];
    for await (const object of store.list('bk_a/')) listed.push(object.key);
    expect(listed).toEqual([]);
    release();
    await put;
    expect(await readdir(join(root, 'bk_a'))).toEqual(['slow.dump']);
  });

  it('deletes the temporary files a killed writer left when deleting a whole backup', async () => {
    await store.putBytes('bk_a/manifest.json', Buffer.from('{}'));
    await writeFile(join(root, 'bk_a', '.app-db.dump.zst.partial-k1lled0001'), 'half a dump');
    expect(await store.deleteAll('bk_a/')).toBe(1);
    expect(await readdir(root)).toEqual([]);
  });

  it('removes a backup directory when its last object is deleted', async () => {
    await store.putBytes('bk_a/one', Buffer.from('1'));
    await store.putBytes('bk_a/two', Buffer.from('2'));
    await store.delete('bk_a/one');
    expect(await readdir(root)).toEqual(['bk_a']);
    await store.delete('bk_a/two');
    expect(await readdir(root)).toEqual([]);
  });

  it.each([
    ['../outside', 'a parent segment'],
    ['bk_a/../../outside', 'a parent segment in the middle'],
    ['/etc/passwd', 'an absolute path'],
    ['', 'an empty key'],
    ['bk_a//x', 'an empty segment'],
    ['bk_a/./x', 'a dot segment'],
    ['bk_a\\x', 'a backslash'],
    ['bk_a/.x.partial-abc123', 'a temporary file name'],
  ])('refuses the key %j (%s) with invalid_object_key', async (key) => {
    await expect(store.putBytes(key, Buffer.from('x'))).rejects.toMatchObject({
      code: 'invalid_object_key',
    });
    await expect(store.get(key)).rejects.toMatchObject({ code: 'invalid_object_key' });
    await expect(store.stat(key)).rejects.toMatchObject({ code: 'invalid_object_key' });
    await expect(store.delete(key)).rejects.toMatchObject({ code: 'invalid_object_key' });
  });

  it('refuses a list prefix that climbs out of the root', async () => {
    const listing = async () => {
      for await (const _ of store.list('../')) return;
    };
    await expect(listing()).rejects.toMatchObject({ code: 'invalid_object_key' });
  });
});
