import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LifeboatError } from '../../src/core/errors.ts';
import { S3BackupStore } from '../../src/storage/s3-backup-store.ts';
import { type S3TestServer, startS3Server, uniqueBucketName } from '../support/s3-server.ts';

async function failure(promise: Promise<unknown>): Promise<LifeboatError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LifeboatError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const body = () => Readable.from([Buffer.alloc(1024, 1)]);

/** The S3 equivalents of a missing or read-only directory, named as such by the store. */
describe('the s3 store names what S3 refused', () => {
  let s3: S3TestServer;

  beforeAll(async () => {
    s3 = await startS3Server();
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('says the bucket does not exist (NoSuchBucket)', async () => {
    const bucket = uniqueBucketName('missing');
    const store = new S3BackupStore({
      config: s3.config({ bucket }),
      credentials: s3.credentials,
      maxAttempts: 1,
    });
    try {
      for (const attempt of [
        () => store.putBytes('bk_x/manifest.json', Buffer.from('{}')),
        () => store.put('bk_x/a.bin', body()),
        async () => {
          for await (const _ of store.list('bk_')) break;
        },
      ]) {
        const error = await failure(attempt());
        expect(error.code).toBe('store_bucket_missing');
        expect(error.message).toContain(
          `the bucket "${bucket}" at ${s3.endpoint} does not exist (NoSuchBucket)`,
        );
      }
    } finally {
      store.close();
    }
  });

  it('says the credentials are not valid or may not write', async () => {
    const store = new S3BackupStore({
      config: s3.config(),
      credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    try {
      const error = await failure(store.putBytes('bk_x/manifest.json', Buffer.from('{}')));
      expect(error.code).toMatch(/^store_(credentials_invalid|access_denied)$/);
      expect(error.message).toMatch(/credentials are not valid|access denied/);
      expect(error.message).toContain(`"${s3.bucket}"`);
    } finally {
      store.close();
    }
  });
});
