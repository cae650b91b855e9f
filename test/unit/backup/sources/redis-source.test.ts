import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { exactRdb, keyspaceCounts } from '../../../../src/backup/sources/redis-source.ts';
import { parseCheckOutput } from '../../../../src/redis/rdb-file.ts';

const RDB = Buffer.concat([Buffer.from('REDIS0010'), Buffer.alloc(300, 7), Buffer.from([0xff])]);
const MARK = Buffer.from('e3a9466ae7fac9bac65cac0123456789abcdef01');

/** Runs `exactRdb` over `bytes` cut into chunks of `size`, as redis-cli's stdout would arrive. */
async function strip(bytes: Buffer, size: number, reported: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  const out: Buffer[] = [];
  for await (const chunk of exactRdb(Readable.from(chunks), Promise.resolve(reported), 'cache')) {
    out.push(chunk);
  }
  return Buffer.concat(out);
}

describe('exactRdb', () => {
  it('drops the EOF marker of a diskless transfer, however the bytes were chunked', async () => {
    for (const size of [1, 7, 39, 40, 41, 64, 1000]) {
      expect(await strip(Buffer.concat([RDB, MARK]), size, RDB.length)).toEqual(RDB);
    }
  });

  it('passes a transfer without a marker through whole', async () => {
    for (const size of [1, 40, 1000]) {
      expect(await strip(RDB, size, RDB.length)).toEqual(RDB);
    }
  });

  it('errors when the bytes do not add up to what redis-cli reported', async () => {
    await expect(strip(RDB, 64, RDB.length + 1)).rejects.toMatchObject({
      code: 'redis_snapshot_failed',
      message: `the snapshot of cache has ${RDB.length} bytes where redis-cli reported ${RDB.length + 1}`,
    });
    await expect(strip(Buffer.concat([RDB, MARK, MARK]), 64, RDB.length)).rejects.toMatchObject({
      code: 'redis_snapshot_failed',
    });
  });

  it('errors with redis-cli’s failure rather than ending', async () => {
    const failed = Promise.reject(new Error('redis-cli exited with code 1'));
    const run = async () => {
      for await (const _ of exactRdb(Readable.from([RDB]), failed, 'cache')) {
        // drain
      }
    };
    await expect(run()).rejects.toThrow('redis-cli exited with code 1');
  });
});

describe('keyspaceCounts', () => {
  const info =
    '# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=100\r\ndb10:keys=5,expires=0,avg_ttl=0\r\n';

  it('reads the counts of the named database only', () => {
    expect(keyspaceCounts(info, 0)).toEqual({ keys: 12, expires: 3 });
    expect(keyspaceCounts(info, 10)).toEqual({ keys: 5, expires: 0 });
  });

  it('counts a database missing from the reply as empty', () => {
    expect(keyspaceCounts(info, 1)).toEqual({ keys: 0, expires: 0 });
  });
});

describe('parseCheckOutput', () => {
  it('reads redis-check-rdb’s figures and databases', () => {
    const output = [
      '[offset 0] Checking RDB file dump.rdb',
      "[offset 27] AUX FIELD redis-ver = '7.0.15'",
      '[offset 165] Selecting DB ID 0',
      '[offset 175] Selecting DB ID 2',
      '[offset 206] Checksum OK',
      '[offset 206] \\o/ RDB looks OK! \\o/',
      '[info] 3 keys read',
      '[info] 1 expires',
      '[info] 0 already expired',
    ].join('\n');
    expect(parseCheckOutput(output)).toEqual({
      keys: 3,
      expires: 1,
      alreadyExpired: 0,
      databases: [0, 2],
      redisVersion: '7.0.15',
    });
  });
});
