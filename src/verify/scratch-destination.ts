import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestComponent } from '../backup/manifest.ts';
import { startTemporaryTcpRedis } from '../redis/temporary-redis.ts';
import type { RestoreDestination } from '../restore/component-restorer.ts';
import { withScratchDatabase } from './scratch-database.ts';

/** Where restore tests go. */
export interface ScratchSettings {
  /**
   * A PostgreSQL server URL whose user may CREATE DATABASE: postgres components are restored
   * into throwaway databases there (`scratch.postgres` in the config).
   */
  readonly postgresUrl: string;
}

/**
 * Makes a scratch destination for one component, runs `work` with it, and removes it
 * afterwards whatever happened: postgres → a throwaway database on the scratch server, dropped;
 * directory → an empty directory under `workDirectory`, which the caller removes; redis → a
 * private redis-server on a free port of 127.0.0.1 with a random password, stopped.
 */
export async function withScratchDestination<T>(
  component: ManifestComponent,
  settings: ScratchSettings,
  workDirectory: string,
  signal: AbortSignal | undefined,
  work: (destination: RestoreDestination) => Promise<T>,
): Promise<T> {
  switch (component.kind) {
    case 'postgres':
      return withScratchDatabase(settings.postgresUrl, (url, name) =>
        work({
          name: `scratch database ${name}`,
          config: { kind: 'postgres', url, environment: 'scratch', pgDumpArgs: [] },
        }),
      );
    case 'directory': {
      const path = join(workDirectory, 'restored');
      await mkdir(path);
      return work({
        name: 'scratch directory',
        config: { kind: 'directory', path, include: [], exclude: [], environment: 'scratch' },
      });
    }
    case 'redis': {
      // Addressed by URL like any destination: on 127.0.0.1, with a random password.
      const redis = await startTemporaryTcpRedis(signal ? { signal } : {});
      try {
        return await work({
          name: `temporary redis on port ${redis.port}`,
          config: { kind: 'redis', url: redis.url, environment: 'scratch' },
        });
      } finally {
        await redis.stop();
      }
    }
  }
}
