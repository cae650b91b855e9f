import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { encodeFileName } from '../../../src/core/file-names.ts';
import { readTarEntries, tarEntriesOf, tarEntryTap } from '../../../src/tar/tar-entries.ts';
import { type TarEntry, TarParser } from '../../../src/tar/tar-parser.ts';
import { gnuLongName, paxHeader, tarArchive, tarMember } from '../../support/tar-builder.ts';

const sample = () =>
  tarArchive(
    tarMember({ name: 'docs/', type: '5' }),
    tarMember({ name: 'docs/a.md', data: Buffer.alloc(1300, 1) }),
    gnuLongName(`${'long/'.repeat(40)}name.txt`),
    tarMember({ name: 'x', data: 'long named' }),
    paxHeader({ path: 'pax name.txt', mtime: '1700000000.25' }),
    tarMember({ name: 'short', data: 'pax' }),
    tarMember({ name: 'link', type: '2', linkName: 'docs/a.md' }),
  );

const run = promisify(execFile);

const paths = (entries: readonly TarEntry[]) => entries.map((e) => e.path);

describe('the tar parser, fed chunk by chunk', () => {
  it('reads the same entries whatever the chunks, down to one byte at a time', async () => {
    const archive = sample();
    const whole = new TarParser().push(archive);
    const parser = new TarParser();
    const bytewise: TarEntry[] = [];
    for (const byte of archive) bytewise.push(...parser.push(Buffer.of(byte)));
    parser.end();
    expect(bytewise).toEqual(whole);
    expect(paths(whole)).toEqual([
      'docs/',
      'docs/a.md',
      `${'long/'.repeat(40)}name.txt`,
      'pax name.txt',
      'link',
    ]);
    expect(whole[1]?.size).toBe(1300);
    expect(paths(await fromChunks(archive, 7))).toEqual(paths(whole));
  });

  it('refuses an archive cut inside an entry once the input ends', async () => {
    const cut = sample().subarray(0, 1200);
    await expect(fromChunks(cut, 100)).rejects.toMatchObject({
      code: 'tar_invalid',
      message: expect.stringMatching(/ends inside the data of docs\/a\.md/),
    });
  });

  it('taps a stream: every byte passes unchanged, every entry is seen before its data', async () => {
    const archive = sample();
    const seen: string[] = [];
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(chunked(archive, 1000)),
      tarEntryTap((entry) => seen.push(entry.path)),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(out).equals(archive)).toBe(true);
    expect(seen).toEqual(paths(new TarParser().push(archive)));
  });

  it('errors the tapped stream when the archive is damaged or the listener refuses an entry', async () => {
    const damaged = sample();
    damaged[600] = (damaged[600] ?? 0) ^ 0xff;
    await expect(
      pipeline(
        Readable.from(chunked(damaged, 512)),
        tarEntryTap(() => {}),
        sink(),
      ),
    ).rejects.toMatchObject({ code: 'tar_invalid' });
    await expect(
      pipeline(
        Readable.from(chunked(sample(), 512)),
        tarEntryTap((entry) => {
          if (entry.type === 'symlink') throw new Error(`refused ${entry.path}`);
        }),
        sink(),
      ),
    ).rejects.toThrow('refused link');
  });
});

describe("GNU tar's POSIX archives", () => {
  it('reads a sparse file by its real name and size, and the nanoseconds of an mtime', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lifeboat-tar-parser-'));
    try {
      await mkdir(join(dir, 'tree'));
      const sparse = join(dir, 'tree', 'disk.img');
      await writeFile(sparse, 'data at the start');
      await truncate(sparse, 32 * 1024 * 1024);
      const archive = join(dir, 'sparse.tar');
      await run('tar', [
        '--create',
        `--file=${archive}`,
        `--directory=${join(dir, 'tree')}`,
        '--format=posix',
        '--sparse',
        '--sparse-version=1.0',
        'disk.img',
      ]);
      const entries: TarEntry[] = [];
      for await (const entry of readTarEntries(archive)) entries.push(entry);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        path: 'disk.img',
        type: 'file',
        sparse: true,
        size: 32 * 1024 * 1024,
      });
      // What a reader without sparse support would extract it as is checked too.
      expect(entries[0]?.names.some((n) => n.includes('GNUSparseFile'))).toBe(true);
      expect(entries[0]?.paxKeys).toContain('mtime');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('names in the archive', () => {
  it('reads names that are not UTF-8 byte for byte, from headers and from pax records', () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const header = Buffer.from(tarMember({ name: 'xxxx' }));
    latin1.copy(header, 0);
    // The checksum covers the name: recompute it for the edited header.
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header.subarray(0, 512)) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    const pax = paxHeader({ path: 'placeholder' });
    const at = pax.indexOf('placeholder');
    const withRawPath = Buffer.concat([
      pax.subarray(0, at),
      Buffer.from([0x64, 0xff, 0x2f, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68]),
      pax.subarray(at + 'placeholder'.length),
    ]);
    const entries = new TarParser().push(
      tarArchive(header, withRawPath, tarMember({ name: 'ignored' })),
    );
    expect(entries.map((e) => encodeFileName(e.path).toString('hex'))).toEqual([
      latin1.toString('hex'),
      Buffer.from([0x64, 0xff, 0x2f, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68]).toString(
        'hex',
      ),
    ]);
  });
});

function* chunked(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function fromChunks(bytes: Buffer, size: number): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for await (const entry of tarEntriesOf(chunked(bytes, size))) out.push(entry);
  return out;
}

function sink(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}
