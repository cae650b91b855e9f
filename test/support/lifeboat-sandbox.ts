import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgbenchDatabase, databaseUrl, dropDatabase, uniqueName } from './databases.ts';
import { obliterateQueue, uniqueQueuePrefix } from './queues.ts';

/**
 * What one suite that runs the real `lifeboat` owns, so suites never share state: a working
 * directory, a pgbench database to back up, and a catalog database and queue prefix of its own.
 */
export interface LifeboatSandbox {
  /** The working directory, for `lifeboat.yaml` and `./backups`. */
  readonly dir: string;
  /** A pgbench database at scale 1 (100 000 accounts). */
  readonly sourceDb: string;
  /** The catalog database; `lifeboat` creates it on first use. */
  readonly catalogDb: string;
  readonly queuePrefix: string;
  /** `DATABASE_URL` and `LIFEBOAT_QUEUE_PREFIX` for `runLifeboat`. */
  readonly env: Record<string, string>;
  /** Drops both databases, deletes the directory and removes the queue's Redis keys. */
  remove(): Promise<void>;
}

/** Makes a sandbox whose names start with `name`; on failure it removes what it made. */
export async function createSandbox(name: string): Promise<LifeboatSandbox> {
  const sourceDb = uniqueName(`lb_${name}src`);
  const catalogDb = uniqueName(`lb_${name}cat`);
  const queuePrefix = uniqueQueuePrefix();
  const dir = await mkdtemp(join(tmpdir(), `lifeboat-${name}-`));
  const remove = async (): Promise<void> => {
    await dropDatabase(sourceDb);
    await dropDatabase(catalogDb);
    await rm(dir, { recursive: true, force: true });
    await obliterateQueue(queuePrefix);
  };
  try {
    await createPgbenchDatabase(sourceDb, 1);
  } catch (error) {
    await remove().catch(() => {});
    throw error;
  }
  return {
    dir,
    sourceDb,
    catalogDb,
    queuePrefix,
    env: { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: queuePrefix },
    remove,
  };
}
