import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compressionExtension,
  type PipelineCounts,
  streamToStore,
} from '../../../src/backup/pipeline.ts';
import { LocalBackupStore } from '../../../src/storage/local-backup-store.ts';

const MiB = 1024 * 1024;

/** Compressible but not trivial: lines of a fake COPY stream. */
function* rows(count: number): Generator<Buffer> {
  for (let i = 0; i < count; i += 1000) {
    let text = '';
    for (let j = i; j < Math.min(count, i + 1000); j++)
      text += `${j}\t${j % 7}\t${'x'.repeat(j % 50)}\n`;
    yield Buffer.from(text);
  }
}

function rawOf(count: number): Buffer {
  return Buffer.concat([...rows(count)]);
}

describe('streaming a source into the store', () => {
  let root: string;
  let store: LocalBackupStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeboat-pipeline-'));
    store = new LocalBackupStore({ root });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each([
    ['zstd', (b: Buffer) => zlib.zstdDecompressSync(b)],
    ['gzip', (b: Buffer) => zlib.gunzipSync(b)],
    ['none', (b: Buffer) => b],
  ] as const)(
    'stores %s output whose sha256 and sizes match the stored file',
    async (compression, decompress) => {
      const key = `bk_a/db.dump${compressionExtension(compression)}`;
      const result = await streamToStore({
        source: Readable.from(rows(100_000)),
        store,
        key,
        compression,
      });
      const file = await readFile(
        join(root, 'bk_a', `db.dump${compressionExtension(compression)}`),
      );
      const raw = rawOf(100_000);
      expect(result.rawBytes).toBe(raw.length);
      expect(result.storedBytes).toBe(file.length);
      expect(result.sha256).toBe(createHash('sha256').update(file).digest('hex'));
      expect(decompress(file).equals(raw)).toBe(true);
      if (compression !== 'none') expect(file.length).toBeLessThan(raw.length / 2);
    },
  );

  it('names compressed objects with the usual extensions', () => {
    expect(compressionExtension('zstd')).toBe('.zst');
    expect(compressionExtension('gzip')).toBe('.gz');
    expect(compressionExtension('none')).toBe('');
  });

  it('runs extra stages after compression, before hashing', async () => {
    const invert = {
      name: 'invert',
      create: () =>
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            callback(null, Buffer.from(chunk.map((byte) => 255 - byte)));
          },
        }),
    };
    const result = await streamToStore({
      source: Readable.from(rows(10_000)),
      store,
      key: 'bk_a/db.dump.zst.inv',
      compression: 'zstd',
      stages: [invert],
    });
    const file = await readFile(join(root, 'bk_a', 'db.dump.zst.inv'));
    expect(result.sha256).toBe(createHash('sha256').update(file).digest('hex'));
    const restored = zlib.zstdDecompressSync(Buffer.from(file.map((byte) => 255 - byte)));
    expect(restored.equals(rawOf(10_000))).toBe(true);
  });

  it('reports progress while bytes flow and once more with the final counts', async () => {
    const reports: PipelineCounts[] = [];
    const slow = Readable.from(
      (async function* () {
        for (const chunk of rows(50_000)) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          yield chunk;
        }
      })(),
    );
    const result = await streamToStore({
      source: slow,
      store,
      key: 'bk_a/slow',
      compression: 'none',
      progressIntervalMs: 20,
      onProgress: (counts) => reports.push(counts),
    });
    expect(reports.length).toBeGreaterThan(2);
    expect(reports.at(-1)).toEqual({ rawBytes: result.rawBytes, storedBytes: result.storedBytes });
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i]?.rawBytes).toBeGreaterThanOrEqual(reports[i - 1]?.rawBytes ?? 0);
    }
  });

  it('stores nothing when the source fails midway', async () => {
    const failing = Readable.from(
      (async function* () {
        yield* rows(20_000);
        throw new Error('pg_dump died');
      })(),
    );
    await expect(
      streamToStore({ source: failing, store, key: 'bk_a/db.dump.zst', compression: 'zstd' }),
    ).rejects.toThrow('pg_dump died');
    expect(await readdir(root, { recursive: true })).toEqual([]);
  });

  it('stores nothing and stops reading the source when the store fails', async () => {
    let produced = 0;
    const source = Readable.from(
      (async function* () {
        for (let i = 0; i < 1000; i++) {
          produced += MiB;
          yield Buffer.alloc(MiB, i);
        }
      })(),
    );
    const broken = Object.create(store) as LocalBackupStore;
    broken.put = async (_key, body) => {
      for await (const _ of body) throw new Error('disk full');
      throw new Error('unreachable');
    };
    await expect(
      streamToStore({ source, store: broken, key: 'bk_a/db.dump', compression: 'none' }),
    ).rejects.toThrow('disk full');
    expect(produced).toBeLessThan(100 * MiB);
    expect(source.destroyed).toBe(true);
  });

  it('stores nothing when aborted midway', async () => {
    const controller = new AbortController();
    const source = Readable.from(
      (async function* () {
        for (let i = 0; i < 1000; i++) {
          if (i === 5) controller.abort(new Error('cancelled from chat'));
          yield Buffer.alloc(MiB, i);
        }
      })(),
    );
    await expect(
      streamToStore({
        source,
        store,
        key: 'bk_a/db.dump.zst',
        compression: 'zstd',
        signal: controller.signal,
      }),
    ).rejects.toThrow();
    expect(await readdir(root, { recursive: true })).toEqual([]);
  });
});
