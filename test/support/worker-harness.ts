import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { vi } from 'vitest';
import type { BackupRecord } from '../../src/app/services.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { type App, createApp } from '../../src/main.ts';
import { withDefaultUser } from '../../src/postgres/connection-url.ts';
import { createDatabase, databaseUrl, dropDatabase, sql, uniqueName } from './databases.ts';

/**
 * What the worker suites share: a temp directory with `lifeboat.yaml` and a `files` directory, a
 * catalog database and a queue prefix of their own, and a gated source database whose `pg_dump`
 * waits at a table lock until the test lets it go — so a backup can be held mid-run for as long
 * as a test needs, without sleeping.
 */
export interface WorkerSuite {
  readonly dir: string;
  /** The environment of every app of the suite, for child processes too. */
  readonly env: Readonly<Record<string, string>>;
  readonly catalogDatabase: string;
  readonly app: App;
  readonly gate: Gate;
  /** Another app on the same catalog and queue; with `config`, that config replaces the file. */
  openApp(config?: string): Promise<App>;
  /** Replaces `lifeboat.yaml`, for apps and processes started from now on. */
  writeConfig(config: string): Promise<void>;
  /** The backup as the catalog has it now (it must exist). */
  backup(id: string): Promise<BackupRecord>;
  /** The catalog's attempt count of a backup. */
  attempts(id: string): Promise<number>;
  /** Waits until the catalog has the backup in `status`. */
  waitForStatus(id: string, status: BackupRecord['status']): Promise<BackupRecord>;
  /** Object keys stored under the backup's prefix. */
  objectsOf(id: string): Promise<string[]>;
  dispose(): Promise<void>;
}

/** Holds every `pg_dump` of the gated database at its lock on table `gate` while closed. */
export interface Gate {
  /** The gated database's URL, for `postgres` targets. */
  readonly url: string;
  close(): Promise<void>;
  open(): Promise<void>;
  /** Sessions waiting at the gate now. */
  waiting(): Promise<number>;
  /** Waits until `count` sessions wait at the gate. */
  waitForWaiting(count: number): Promise<void>;
}

/** Settings for `vi.waitFor`: long enough for a slow machine, short of the test's timeout. */
/** A config backing up the `files` directory and the gated database as profile `both`. */
export function filesAndGatedConfig(gated: string, compression = 'zstd'): string {
  return `defaultProfile: both
compression: ${compression}
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  gated: { kind: postgres, url: "${gated}", environment: staging }
profiles:
  both: { targets: [files, gated] }
`;
}

export const WAIT = { timeout: 20_000, interval: 25 } as const;

/**
 * Sets up a suite. `config` gets the gated database's URL and returns `lifeboat.yaml`;
 * `storage.local.path` and directory targets are relative to the temp directory, which holds
 * `files/` (a few kilobytes) for directory targets.
 */
export async function createWorkerSuite(
  name: string,
  config: (gatedUrl: string) => string,
  options: {
    /** More environment for the suite's apps and processes (S3 credentials, age identities). */
    readonly env?: Readonly<Record<string, string>>;
  } = {},
): Promise<WorkerSuite> {
  const dir = await mkdtemp(join(tmpdir(), `lifeboat-${name}-`));
  const catalogDatabase = uniqueName(`lb_${name}_cat`);
  const gatedDatabase = uniqueName(`lb_${name}_src`);
  const env = {
    DATABASE_URL: withDefaultUser(databaseUrl(catalogDatabase)),
    REDIS_URL: 'redis://127.0.0.1:6379',
    LIFEBOAT_QUEUE_PREFIX: uniqueName(`lbq_${name}`),
    ...options.env,
  };
  const apps: App[] = [];
  let gate: Gate | undefined;
  const dispose = async () => {
    await gate?.open().catch(() => undefined);
    await apps[0]?.queue.queue.obliterate({ force: true }).catch(() => undefined);
    for (const each of apps.reverse()) await each.close().catch(() => undefined);
    await dropDatabase(gatedDatabase);
    await dropDatabase(catalogDatabase);
    await rm(dir, { recursive: true, force: true });
  };
  const writeConfig = (text: string) => writeFile(join(dir, 'lifeboat.yaml'), text);
  const openApp = async (text?: string) => {
    if (text !== undefined) await writeConfig(text);
    const app = await createApp({
      configPath: join(dir, 'lifeboat.yaml'),
      env,
      logger: silentLogger(),
      seedDemo: false,
    });
    apps.push(app);
    return app;
  };

  let app: App;
  try {
    gate = await createGate(gatedDatabase);
    await mkdir(join(dir, 'files/nested'), { recursive: true });
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    await writeFile(join(dir, 'files/nested/b.bin'), Buffer.alloc(64_000, 7));
    await writeConfig(config(gate.url));
    app = await openApp();
  } catch (error) {
    await dispose().catch(() => undefined);
    throw error;
  }

  const backup = async (id: string) => {
    const record = await app.catalog.backups.get(id);
    if (!record) throw new Error(`backup ${id} is not in the catalog`);
    return record;
  };

  return {
    dir,
    env,
    catalogDatabase,
    app,
    gate,
    openApp,
    writeConfig,
    backup,
    async attempts(id) {
      const [row] = await sql<{ attempts: number }>(
        'SELECT attempts FROM backups WHERE id = $1',
        catalogDatabase,
        [id],
      );
      return row?.attempts ?? -1;
    },
    waitForStatus(id, status) {
      return vi.waitFor(async () => {
        const record = await backup(id);
        if (record.status !== status) {
          throw new Error(`backup ${id} is ${record.status}, not ${status}: ${record.error}`);
        }
        return record;
      }, WAIT);
    },
    async objectsOf(id) {
      const keys: string[] = [];
      for await (const object of app.store.list(`${id}/`)) keys.push(object.key);
      return keys;
    },
    dispose,
  };
}

/**
 * A database whose `pg_dump` can be held: `gate` is a partitioned table, and while a session
 * holds `LOCK TABLE ONLY gate` pg_dump waits for its own lock on it. The backup's row counts
 * and size estimate read only the partition, which stays unlocked, so everything before the
 * dump itself goes on as usual and the backup is really running when it stops.
 */
export async function createGate(database: string): Promise<Gate> {
  const url = withDefaultUser(await createDatabase(database));
  await sql(
    `CREATE TABLE gate (id integer) PARTITION BY RANGE (id);
     CREATE TABLE gate_rows PARTITION OF gate FOR VALUES FROM (0) TO (1000);
     INSERT INTO gate SELECT generate_series(0, 99);`,
    database,
  );
  let holder: pg.Client | undefined;
  const waiting = async () => {
    const [row] = await sql<{ waiting: number }>(
      `SELECT count(*)::int AS waiting FROM pg_locks
        WHERE relation = 'gate'::regclass AND NOT granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      database,
    );
    return row?.waiting ?? 0;
  };
  return {
    url,
    async close() {
      if (holder) return;
      holder = new pg.Client({ connectionString: url });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE ONLY gate IN ACCESS EXCLUSIVE MODE');
    },
    async open() {
      const client = holder;
      holder = undefined;
      if (!client) return;
      await client.query('COMMIT');
      await client.end();
    },
    waiting,
    async waitForWaiting(count) {
      await vi.waitFor(async () => {
        const now = await waiting();
        if (now !== count) throw new Error(`${now} sessions wait at the gate, not ${count}`);
      }, WAIT);
    },
  };
}
