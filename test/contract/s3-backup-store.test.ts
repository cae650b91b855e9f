import { afterAll, beforeAll } from 'vitest';
import { S3BackupStore } from '../../src/storage/s3-backup-store.ts';
import { type S3TestServer, startS3Server } from '../support/s3-server.ts';
import { describeBackupStoreContract } from './backup-store.contract.ts';

let s3: S3TestServer;
let suite = 0;

beforeAll(async () => {
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3?.stop();
});

describeBackupStoreContract('s3', async () => {
  // Each case gets its own prefix in the bucket, so nothing one case leaves can leak into another.
  const prefix = `contract-${++suite}/`;
  const store = new S3BackupStore({
    config: s3.config({ prefix }),
    credentials: s3.credentials,
    partSize: 5 * 1024 * 1024,
  });
  return {
    store,
    cleanup: async () => {
      await store.deleteAll('');
      store.close();
    },
  };
});
