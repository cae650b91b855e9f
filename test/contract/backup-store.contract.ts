import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LifeboatError } from '../../src/core/errors.ts';
import type { BackupStore } from '../../src/storage/backup-store.ts';

export interface StoreUnderTest {
  readonly store: BackupStore;
  /** Removes everything the store wrote (its bucket, its directory). */
  readonly cleanup: () => Promise<void>;
}

const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes, produced chunk by chunk so nothing is held in memory. */
function* generatedChunks(totalBytes: number, seed: string): Generator<Buffer> {
  let counter = 0;
  let produced = 0;
  while (produced < totalBytes) {
    const block = createHash('sha512').update(`${seed}:${counter++}`).digest();
    const chunk = Buffer.alloc(Math.min(64 * 1024, totalBytes - produced));
    for (let i = 0; i < chunk.length; i += block.length) block.copy(chunk, i);
    produced += chunk.length;
    yield chunk;
  }
}

function sha256Of(chunks: Iterable<Buffer>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function sha256OfStream(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function keys(store: BackupStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const object of store.list(prefix)) out.push(object.key);
  return out;
}

/** A stream that yields `bytesBeforeFailure` bytes, then fails. */
function failingHalfway(bytesBeforeFailure: number): Readable {
  return Readable.from(
    (async function* () {
      yield* generatedChunks(bytesBeforeFailure, 'failing');
      throw new Error('the source broke halfway');
    })(),
  );
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/**
 * The behaviour every `BackupStore` promises (see `src/storage/backup-store.ts`), run against
 * each implementation: `describeBackupStoreContract('local', async () => …)`.
 */
export function describeBackupStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`the ${name} backup store contract`, () => {
    let subject: StoreUnderTest;
    let store: BackupStore;

    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    it('returns the same bytes it stored from a multi-megabyte stream', async () => {
      const size = 12 * MiB + 123;
      const stored = await store.put(
        'bk_a/app-db.dump.zst',
        Readable.from(generatedChunks(size, 'round-trip')),
      );
      expect(stored).toEqual({ key: 'bk_a/app-db.dump.zst', bytes: size });

      const read = await sha256OfStream(await store.get('bk_a/app-db.dump.zst'));
      expect(read).toEqual({ sha256: sha256Of(generatedChunks(size, 'round-trip')), bytes: size });
    });

    it('stores an empty stream as an empty object', async () => {
      await store.put('bk_a/empty', Readable.from([]));
      expect(await store.stat('bk_a/empty')).toEqual({ key: 'bk_a/empty', bytes: 0 });
      expect((await readAll(await store.get('bk_a/empty'))).length).toBe(0);
    });

    it('stores small objects from memory with putBytes', async () => {
      const body = new TextEncoder().encode('{"format":"lifeboat.manifest/v1"}\n');
      expect(await store.putBytes('bk_a/manifest.json', body)).toEqual({
        key: 'bk_a/manifest.json',
        bytes: body.length,
      });
      expect(new Uint8Array(await readAll(await store.get('bk_a/manifest.json')))).toEqual(body);
    });

    it('replaces an object that is put again under the same key', async () => {
      await store.putBytes('bk_a/manifest.json', Buffer.from('first version'));
      await store.putBytes('bk_a/manifest.json', Buffer.from('second'));
      expect((await readAll(await store.get('bk_a/manifest.json'))).toString()).toBe('second');
      expect(await keys(store, 'bk_a/')).toEqual(['bk_a/manifest.json']);
    });

    it('reports the size of a stored object and nothing for a missing one', async () => {
      await store.putBytes('bk_a/app-db.dump', Buffer.alloc(4321, 1));
      expect(await store.stat('bk_a/app-db.dump')).toEqual({
        key: 'bk_a/app-db.dump',
        bytes: 4321,
      });
      expect(await store.stat('bk_a/missing')).toBeUndefined();
      expect(await store.stat('bk_nothing/missing')).toBeUndefined();
    });

    it('lists the objects under a prefix in key order', async () => {
      for (const key of ['bk_b/z', 'bk_a/uploads.tar', 'bk_a/app-db.dump', 'bk_ab/x', 'bk_a/10']) {
        await store.putBytes(key, Buffer.from(key));
      }
      expect(await keys(store, 'bk_a/')).toEqual([
        'bk_a/10',
        'bk_a/app-db.dump',
        'bk_a/uploads.tar',
      ]);
      expect(await keys(store, 'bk_a')).toEqual([
        'bk_a/10',
        'bk_a/app-db.dump',
        'bk_a/uploads.tar',
        'bk_ab/x',
      ]);
      expect(await keys(store, 'bk_a/app')).toEqual(['bk_a/app-db.dump']);
      expect(await keys(store, '')).toEqual([
        'bk_a/10',
        'bk_a/app-db.dump',
        'bk_a/uploads.tar',
        'bk_ab/x',
        'bk_b/z',
      ]);
      expect(await keys(store, 'bk_none/')).toEqual([]);
    });

    it('lists each object with its size', async () => {
      await store.putBytes('bk_a/one', Buffer.alloc(10));
      await store.putBytes('bk_a/two', Buffer.alloc(2000));
      const listed = [];
      for await (const object of store.list('bk_a/')) listed.push(object);
      expect(listed).toEqual([
        { key: 'bk_a/one', bytes: 10 },
        { key: 'bk_a/two', bytes: 2000 },
      ]);
    });

    it('deletes an object, and deleting it again or deleting a missing one is not an error', async () => {
      await store.putBytes('bk_a/one', Buffer.from('1'));
      await store.putBytes('bk_a/two', Buffer.from('2'));
      await store.delete('bk_a/one');
      expect(await store.stat('bk_a/one')).toBeUndefined();
      expect(await keys(store, 'bk_a/')).toEqual(['bk_a/two']);
      await store.delete('bk_a/one');
      await store.delete('bk_never/was');
      await store.delete('bk_a/two');
      expect(await keys(store, '')).toEqual([]);
    });

    it('deletes everything under a prefix with deleteAll, and nothing beside it', async () => {
      await store.putBytes('bk_a/one', Buffer.from('1'));
      await store.putBytes('bk_a/two', Buffer.from('2'));
      await store.putBytes('bk_ab/other', Buffer.from('3'));
      expect(await store.deleteAll('bk_a/')).toBe(2);
      expect(await keys(store, '')).toEqual(['bk_ab/other']);
      expect(await store.deleteAll('bk_a/')).toBe(0);
    });

    it('keeps nothing under the key when the source stream fails halfway', async () => {
      const error = await rejection(store.put('bk_a/app-db.dump', failingHalfway(3 * MiB)));
      expect((error as Error).message).toMatch(/the source broke halfway/);
      expect(await store.stat('bk_a/app-db.dump')).toBeUndefined();
      expect(await keys(store, '')).toEqual([]);
      await expect(store.get('bk_a/app-db.dump')).rejects.toMatchObject({
        code: 'object_not_found',
      });
    });

    it('keeps the previous object when a put over it fails', async () => {
      await store.putBytes('bk_a/manifest.json', Buffer.from('good'));
      await rejection(store.put('bk_a/manifest.json', failingHalfway(MiB)));
      expect((await readAll(await store.get('bk_a/manifest.json'))).toString()).toBe('good');
      expect(await keys(store, '')).toEqual(['bk_a/manifest.json']);
    });

    it('keeps nothing under the key when the put is aborted midway', async () => {
      const controller = new AbortController();
      let sent = 0;
      const body = Readable.from(
        (async function* () {
          for (const chunk of generatedChunks(64 * MiB, 'aborted')) {
            sent += chunk.length;
            if (sent > 2 * MiB) controller.abort(new Error('cancelled by the test'));
            yield chunk;
          }
        })(),
      );
      await rejection(store.put('bk_a/big', body, { signal: controller.signal }));
      expect(sent).toBeLessThan(64 * MiB);
      expect(await store.stat('bk_a/big')).toBeUndefined();
      expect(await keys(store, '')).toEqual([]);
    });

    it('fails to get a missing object with object_not_found naming the key', async () => {
      const error = await rejection(store.get('bk_a/not-there.dump'));
      expect(error).toBeInstanceOf(LifeboatError);
      expect(error).toMatchObject({ code: 'object_not_found' });
      expect((error as Error).message).toContain('bk_a/not-there.dump');
    });

    it('describes where a key lives for people', async () => {
      const where = store.describe('bk_a/app-db.dump.zst');
      expect(where).toContain('bk_a/app-db.dump.zst');
    });
  });
}
