import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZstdProcess } from '../../../src/backup/zstd-process.ts';

async function compress(input: Buffer, command?: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.from([input.subarray(0, input.length >> 1), input.subarray(input.length >> 1)]),
    createZstdProcess(3, command),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(chunks);
}

describe('zstd as a process', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-zstd-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('compresses to a frame that Node and the zstd tool both decompress, checksum included', async () => {
    const input = Buffer.concat([randomBytes(300_000), Buffer.alloc(2_000_000, 'row\n')]);
    const output = await compress(input);
    expect(output.length).toBeLessThan(input.length / 2);
    expect(zlib.zstdDecompressSync(output).equals(input)).toBe(true);
    // Frame header descriptor bit 2: a content checksum follows the last block.
    expect((output[4] ?? 0) & 0x04).toBe(0x04);
  });

  it('compresses empty input to a valid empty frame', async () => {
    const output = await compress(Buffer.alloc(0));
    expect(zlib.zstdDecompressSync(output).length).toBe(0);
  });

  it('says how to install zstd when it is missing', async () => {
    await expect(compress(Buffer.from('x'), join(dir, 'no-such-zstd'))).rejects.toMatchObject({
      code: 'compression_failed',
      message: expect.stringContaining('apt-get install zstd'),
    });
  });

  it('errors instead of ending when zstd fails after writing part of its output', async () => {
    const failing = join(dir, 'failing-zstd');
    await writeFile(
      failing,
      '#!/bin/sh\nhead -c 100 >/dev/null; printf partial; echo "disk on fire" >&2; exit 1\n',
    );
    await chmod(failing, 0o755);
    await expect(compress(randomBytes(100_000), failing)).rejects.toMatchObject({
      code: 'compression_failed',
      message: expect.stringContaining('exited with code 1: disk on fire'),
    });
  });
});
