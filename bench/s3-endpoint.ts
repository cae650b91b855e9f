import { startS3Server } from '../test/support/s3-server.ts';
import type { BenchStoreSpec } from './children/bench-store.ts';

/** The S3 store the bench backs up to, and how to let go of it. */
export interface BenchS3 {
  readonly store: BenchStoreSpec;
  /** `s3rver (in-process)` or the endpoint from the environment. */
  readonly description: string;
  stop(): Promise<void>;
}

/**
 * An S3 endpoint from the environment (BENCH_S3_ENDPOINT, BENCH_S3_BUCKET, BENCH_S3_REGION;
 * credentials from the AWS SDK's chain), else s3rver started in this process on a free port.
 * s3rver runs in the bench's process, not in the measured child, so its memory is not counted
 * as Lifeboat's; its CPU is, as a real server's network round trips would be.
 */
export async function startBenchS3(env: NodeJS.ProcessEnv = process.env): Promise<BenchS3> {
  const endpoint = env.BENCH_S3_ENDPOINT;
  if (endpoint) {
    const bucket = env.BENCH_S3_BUCKET;
    if (!bucket) throw new Error('BENCH_S3_ENDPOINT is set; set BENCH_S3_BUCKET too');
    return {
      store: {
        kind: 's3',
        config: {
          bucket,
          prefix: 'lifeboat-bench/',
          region: env.BENCH_S3_REGION ?? 'us-east-1',
          endpoint,
          forcePathStyle: true,
        },
      },
      description: `${endpoint}/${bucket}`,
      stop: async () => {},
    };
  }
  const server = await startS3Server();
  return {
    store: { kind: 's3', config: server.config(), credentials: server.credentials },
    description: `s3rver (in-process) at ${server.endpoint}`,
    stop: () => server.stop(),
  };
}
