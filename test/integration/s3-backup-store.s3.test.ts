import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LifeboatError, ServiceUnavailableError } from '../../src/core/errors.ts';
import { S3BackupStore, type S3BackupStoreOptions } from '../../src/storage/s3-backup-store.ts';
import { keysOf } from '../support/backup-outcomes.ts';
import {
  type FaultyProxy,
  type S3TestServer,
  startFaultyProxy,
  startS3Server,
} from '../support/s3-server.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB;

/** Deterministic bytes, chunk by chunk; `onChunk` hears how many bytes were produced so far. */
function generated(total: number, seed: string, onChunk?: (produced: number) => void): Readable {
  return Readable.from(
    (function* () {
      let produced = 0;
      let counter = 0;
      while (produced < total) {
        const block = createHash('sha512').update(`${seed}:${counter++}`).digest();
        const chunk = Buffer.alloc(Math.min(256 * 1024, total - produced));
        for (let i = 0; i < chunk.length; i += block.length) block.copy(chunk, i);
        produced += chunk.length;
        onChunk?.(produced);
        yield chunk;
      }
    })(),
  );
}

async function sha256Of(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function failure(promise: Promise<unknown>): Promise<LifeboatError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LifeboatError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const isPart = (r: { method: string; url: string }) =>
  r.method === 'PUT' && /partNumber=/.test(r.url);

describe('the s3 backup store against a real S3 server', () => {
  let s3: S3TestServer;
  let proxy: FaultyProxy;
  let stores: S3BackupStore[] = [];
  let prefixNumber = 0;

  /** A store talking to s3rver through the faulty proxy, under a prefix of its own. */
  const storeThroughProxy = (options: Partial<S3BackupStoreOptions> = {}) => {
    const store = new S3BackupStore({
      credentials: s3.credentials,
      partSize: PART,
      queueSize: 2,
      maxAttempts: 3,
      idleTimeoutMs: 30_000,
      ...options,
      config: s3.config({ endpoint: proxy.endpoint, prefix: `faults-${++prefixNumber}/` }),
    });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    s3 = await startS3Server();
  });

  afterAll(async () => {
    await s3?.stop();
  });

  afterEach(async () => {
    await proxy?.stop();
    for (const store of stores) store.close();
    stores = [];
  });

  it('round-trips an object of several parts byte for byte', async () => {
    proxy = await startFaultyProxy(s3.endpoint);
    const store = storeThroughProxy();
    const size = 20 * MiB + 12_345;
    const stored = await store.put('bk_a/app-db.dump.zst', generated(size, 'multipart'));
    expect(stored).toEqual({ key: 'bk_a/app-db.dump.zst', bytes: size });

    expect(await sha256Of(await store.get('bk_a/app-db.dump.zst'))).toEqual(
      await sha256Of(generated(size, 'multipart')),
    );
    expect(proxy.requests.filter(isPart)).toHaveLength(5);
    expect(await s3.unfinishedUploads()).toEqual([]);
  });

  it('sends the storage class and server-side encryption with every object', async () => {
    proxy = await startFaultyProxy(s3.endpoint);
    const store = new S3BackupStore({
      credentials: s3.credentials,
      partSize: PART,
      config: s3.config({
        endpoint: proxy.endpoint,
        prefix: 'classes/',
        storageClass: 'STANDARD_IA',
        serverSideEncryption: 'AES256',
      }),
    });
    stores.push(store);
    await store.put('bk_a/big', generated(11 * MiB, 'class'));
    await store.put('bk_a/small', generated(1000, 'class'));
    await store.putBytes('bk_a/manifest.json', Buffer.from('{}'));

    for (const key of ['bk_a/big', 'bk_a/small', 'bk_a/manifest.json']) {
      expect((await s3.storedMetadata(`classes/${key}`))?.['x-amz-storage-class']).toBe(
        'STANDARD_IA',
      );
    }
    // The requests that create objects: the multipart upload's start and the single puts.
    const creating = proxy.requests.filter(
      (r) => (r.method === 'POST' && /\?uploads/.test(r.url)) || (r.method === 'PUT' && !isPart(r)),
    );
    expect(creating).toHaveLength(3);
    for (const r of creating) {
      expect(r.headers['x-amz-server-side-encryption']).toBe('AES256');
      expect(r.headers['x-amz-storage-class']).toBe('STANDARD_IA');
    }
  });

  it('retries parts the server answers with 500s, and the put succeeds', async () => {
    proxy = await startFaultyProxy(s3.endpoint, [
      { method: 'PUT', url: /partNumber=2&/, times: 2, fault: { kind: 'status' } },
    ]);
    const store = storeThroughProxy({ maxAttempts: 3 });
    const size = 3 * PART;
    await store.put('bk_a/app-db.dump', generated(size, 'transient'));

    const part2 = proxy.requests.filter((r) => isPart(r) && /partNumber=2&/.test(r.url));
    expect(part2.map((r) => r.fault ?? 'forwarded')).toEqual(['status', 'status', 'forwarded']);
    expect(await sha256Of(await store.get('bk_a/app-db.dump'))).toEqual(
      await sha256Of(generated(size, 'transient')),
    );
  });

  it('fails after its bounded attempts when the server keeps answering 500, leaving nothing', async () => {
    proxy = await startFaultyProxy(s3.endpoint, [
      { method: 'PUT', url: /partNumber=2&/, fault: { kind: 'status' } },
    ]);
    const store = storeThroughProxy({ maxAttempts: 3 });
    let produced = 0;
    const total = 400 * MiB;
    const error = await failure(
      store.put(
        'bk_a/app-db.dump',
        generated(total, 'persistent', (n) => {
          produced = n;
        }),
      ),
    );

    expect(error.code).toBe('s3_request_failed');
    expect(error.message).toContain('InternalError (HTTP 500)');
    expect(error.message).toContain(
      `bk_a/app-db.dump to s3://${s3.bucket}/${store.prefix}bk_a/app-db.dump`,
    );
    expect(error.message).toContain('3 attempts');
    expect(proxy.requests.filter((r) => r.fault === 'status')).toHaveLength(3);
    // The upload stopped at the failure instead of reading the whole source.
    expect(produced).toBeLessThan(total);
    expect(await store.stat('bk_a/app-db.dump')).toBeUndefined();
    expect(await keysOf(store, '')).toEqual([]);
    expect(await s3.unfinishedUploads()).toEqual([]);
  });

  it('fails with a clear error when the server stalls in the middle of a part', async () => {
    proxy = await startFaultyProxy(s3.endpoint, [
      { method: 'PUT', url: /partNumber=2&/, fault: { kind: 'stall-body', afterBytes: MiB } },
    ]);
    const store = storeThroughProxy({ maxAttempts: 2, idleTimeoutMs: 700 });
    const error = await failure(store.put('bk_a/uploads.tar', generated(4 * PART, 'stall')));

    expect(error.code).toBe('s3_timeout');
    expect(error.message).toBe(
      `S3 did not answer within 700 ms (the connection stalled) while uploading bk_a/uploads.tar to s3://${s3.bucket}/${store.prefix}bk_a/uploads.tar (2 attempts)`,
    );
    expect(proxy.requests.filter((r) => r.fault === 'stall-body')).toHaveLength(2);
    expect(await keysOf(store, '')).toEqual([]);
    expect(await s3.unfinishedUploads()).toEqual([]);
  });

  it('fails with a clear error when the server never answers a small put', async () => {
    proxy = await startFaultyProxy(s3.endpoint, [{ method: 'PUT', fault: { kind: 'no-answer' } }]);
    const store = storeThroughProxy({ maxAttempts: 2, idleTimeoutMs: 500 });
    const error = await failure(store.putBytes('bk_a/manifest.json', Buffer.from('{}')));

    expect(error.code).toBe('s3_timeout');
    expect(error.message).toContain('S3 did not answer within 500 ms');
    expect(error.message).toContain(
      `while uploading bk_a/manifest.json to s3://${s3.bucket}/${store.prefix}bk_a/manifest.json`,
    );
    expect(proxy.requests.filter((r) => r.fault === 'no-answer')).toHaveLength(2);
    proxy.clear();
    expect(await store.stat('bk_a/manifest.json')).toBeUndefined();
  });

  it('leaves nothing when a multipart put is aborted, cutting the part in flight', async () => {
    // Part 3 stalls for good: only the abort can end the put (the idle timeout is a minute).
    proxy = await startFaultyProxy(s3.endpoint, [
      { method: 'PUT', url: /partNumber=3&/, fault: { kind: 'stall-body', afterBytes: MiB } },
    ]);
    const store = storeThroughProxy({ queueSize: 1, idleTimeoutMs: 60_000 });
    const controller = new AbortController();
    const stalled = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (proxy.requests.some((r) => r.fault === 'stall-body')) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
    const put = store.put('bk_a/big.tar', generated(200 * MiB, 'aborted'), {
      signal: controller.signal,
    });
    await stalled;
    controller.abort(new Error('cancelled by the test'));
    const error = await failure(put);

    expect(error.code).toBe('store_put_aborted');
    expect(error.message).toContain('cancelled by the test');
    expect(error.message).toContain(`s3://${s3.bucket}/${store.prefix}bk_a/big.tar`);
    expect(proxy.requests.some((r) => r.method === 'POST' && /\?uploads/.test(r.url))).toBe(true);
    expect(await store.stat('bk_a/big.tar')).toBeUndefined();
    expect(await s3.unfinishedUploads()).toEqual([]);
  });

  it('leaves nothing when the source fails after several parts were uploaded', async () => {
    proxy = await startFaultyProxy(s3.endpoint);
    const store = storeThroughProxy();
    const body = Readable.from(
      (async function* () {
        yield* generated(3 * PART, 'source-fails');
        throw new Error('pg_dump died');
      })(),
    );
    await expect(store.put('bk_a/app-db.dump', body)).rejects.toThrow('pg_dump died');
    expect(proxy.requests.filter(isPart).length).toBeGreaterThanOrEqual(2);
    expect(await keysOf(store, '')).toEqual([]);
    expect(await s3.unfinishedUploads()).toEqual([]);
  });

  it('aborts the unfinished uploads a killed writer left when deleting a backup', async () => {
    proxy = await startFaultyProxy(s3.endpoint);
    const store = storeThroughProxy();
    const client = new S3Client({
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    const start = async (key: string) => {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `${store.prefix}${key}` }),
      );
      await client.send(
        new UploadPartCommand({
          Bucket: s3.bucket,
          Key: `${store.prefix}${key}`,
          UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(PART, 7),
        }),
      );
    };
    await start('bk_a/app-db.dump');
    await start('bk_ab/other.dump');
    await store.putBytes('bk_a/manifest.json', Buffer.from('{}'));

    expect(await store.deleteAll('bk_a/')).toBe(1);
    expect((await s3.unfinishedUploads()).map((u) => u.key)).toEqual([
      `${store.prefix}bk_ab/other.dump`,
    ]);
    await store.deleteAll('');
    expect(await s3.unfinishedUploads()).toEqual([]);
    client.destroy();
  });

  it('names the bucket, the key and the S3 error when a read fails', async () => {
    proxy = await startFaultyProxy(s3.endpoint, [
      { method: 'GET', fault: { kind: 'status', status: 503, code: 'SlowDown' } },
    ]);
    const store = storeThroughProxy({ maxAttempts: 2 });
    const error = await failure(store.get('bk_a/app-db.dump'));
    expect(error.code).toBe('s3_request_failed');
    expect(error.message).toContain('SlowDown (HTTP 503)');
    expect(error.message).toContain(
      `reading bk_a/app-db.dump from s3://${s3.bucket}/${store.prefix}bk_a/app-db.dump`,
    );
  });

  it('describes a key as its s3:// URL under the prefix', () => {
    const store = new S3BackupStore({ config: s3.config({ prefix: 'lifeboat/' }) });
    stores.push(store);
    expect(store.describe('bk_a/app-db.dump')).toBe(`s3://${s3.bucket}/lifeboat/bk_a/app-db.dump`);
  });
});

describe('checking the S3 bucket at start-up', () => {
  let s3: S3TestServer;

  beforeAll(async () => {
    s3 = await startS3Server();
  });

  afterAll(async () => {
    await s3?.stop();
  });

  const check = (options: Partial<S3BackupStoreOptions>) => {
    const store = new S3BackupStore({
      config: s3.config(),
      credentials: s3.credentials,
      ...options,
    });
    return store.checkBucket(2_000).finally(() => store.close());
  };

  it('passes for a bucket that exists', async () => {
    await expect(check({})).resolves.toBeUndefined();
  });

  it('says that a missing bucket does not exist and how to create it', async () => {
    const error = await check({ config: s3.config({ bucket: 'no-such-bucket' }) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toContain(
      `Cannot use the S3 bucket "no-such-bucket" (storage.s3) at ${s3.endpoint}: the bucket does not exist.`,
    );
    expect((error as Error).message).toContain('mb s3://no-such-bucket');
  });

  it('says that nothing listens at an endpoint that refuses connections', async () => {
    const proxy = await startFaultyProxy(s3.endpoint);
    const closed = proxy.endpoint;
    await proxy.stop();
    const error = await check({ config: s3.config({ endpoint: closed }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toContain('connection refused (ECONNREFUSED)');
    expect((error as Error).message).toContain('storage.s3.endpoint');
  });

  it('says how to set credentials when the server refuses them, without showing them', async () => {
    const error = await check({
      credentials: { accessKeyId: 'WRONG', secretAccessKey: 'not-the-secret' },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toContain('access denied');
    expect((error as Error).message).toContain('AWS_ACCESS_KEY_ID');
    expect((error as Error).message).not.toContain('not-the-secret');
  });
});
