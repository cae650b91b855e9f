import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  tableChecksums,
  uniqueName,
} from '../support/databases.ts';
import { type RunningLifeboat, runLifeboat, startLifeboat } from '../support/lifeboat-process.ts';
import { obliterateQueue, uniqueQueuePrefix } from '../support/queues.ts';
import { type KillableRedis, startKillableRedis } from '../support/redis-server.ts';
import { WAIT } from '../support/worker-harness.ts';

const HOLD = fileURLToPath(new URL('../support/preload/hold-after-renames.ts', import.meta.url));

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/**
 * `kill -9` of a `lifeboat restore` while it writes a destination: the next worker's sweep puts
 * the destination back from the journal the restore recorded, and the restore's record says
 * what each destination is now.
 */
describe('a restore killed while it writes its destination', () => {
  const catalogDb = uniqueName('lb_undo_cat');
  const queuePrefix = uniqueQueuePrefix();
  let dir: string;
  let env: Record<string, string>;
  const running: RunningLifeboat[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-undo-'));
    await mkdir(join(dir, 'files', 'sub'), { recursive: true });
    for (const name of ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'sub/e.txt']) {
      await writeFile(join(dir, 'files', name), `backed up ${name}\n`);
    }
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  files-copy: { kind: directory, path: ./files-copy, environment: development }
profiles:
  files: { targets: [files] }
`,
    );
    env = { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: queuePrefix };
  });

  afterAll(async () => {
    for (const each of running) await each.kill('SIGKILL');
    await obliterateQueue(queuePrefix);
    await dropDatabase(catalogDb);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function sweptByAWorker(swept: () => Promise<void>): Promise<void> {
    const worker = startLifeboat(['worker'], { cwd: dir, env });
    running.push(worker);
    try {
      await vi.waitFor(swept, WAIT);
    } finally {
      await worker.kill('SIGTERM');
    }
  }

  /** Starts `lifeboat ARGS` and waits until it is held after `renames` moves into place. */
  async function startHeld(args: string[], renames: number): Promise<RunningLifeboat> {
    const held = join(dir, `held-${Date.now()}`);
    const process = startLifeboat(args, {
      cwd: dir,
      env: {
        ...env,
        NODE_OPTIONS: `--import=${HOLD}`,
        LIFEBOAT_TEST_HOLD_AFTER_RENAMES: String(renames),
        LIFEBOAT_TEST_HELD_FILE: held,
      },
    });
    running.push(process);
    process.endInput();
    await vi.waitFor(() => {
      expect(existsSync(held), process.stderr()).toBe(true);
    }, WAIT);
    return process;
  }

  it('is put back as it was by the next worker, which says the destination is unchanged', async () => {
    const created = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(created.code, created.stderr).toBe(0);
    const backupId = String(lastJson(created.stdout).id);

    // The destination as someone left it: other contents at the backup's paths, and more.
    const copy = join(dir, 'files-copy');
    await mkdir(join(copy, 'sub'), { recursive: true });
    for (const name of ['a.txt', 'b.txt', 'c.txt', 'sub/e.txt', 'mine.txt']) {
      await writeFile(join(copy, name), `the destination's own ${name}\n`);
    }
    const before = await snapshot(copy);

    const restore = await startHeld(
      ['restore', backupId, '--into', 'files=files-copy', '--json'],
      3,
    );
    await restore.kill('SIGKILL');
    // Half way: some of the backup's files are in place, some of the destination's moved aside.
    expect(await snapshot(copy)).not.toEqual(before);
    const [claimed] = await sql<{ id: string; status: string }>(
      'SELECT id, status FROM restores',
      catalogDb,
    );
    expect(claimed?.status).toBe('running');

    await sweptByAWorker(async () => {
      const [ended] = await sql<{ status: string }>(
        'SELECT status FROM restores WHERE id = $1',
        catalogDb,
        [claimed?.id],
      );
      expect(ended?.status).toBe('failed');
    });
    expect(await snapshot(copy)).toEqual(before);
    const [ended] = await sql<{ error: string; results: { components: unknown[] } }>(
      'SELECT error, results FROM restores WHERE id = $1',
      catalogDb,
      [claimed?.id],
    );
    expect(ended?.error).toContain('files-copy: unchanged');
    expect(ended?.error).not.toContain('partly');
    expect(ended?.results.components).toEqual([
      expect.objectContaining({
        component: 'files',
        destination: 'files-copy',
        destinationState: 'unchanged',
      }),
    ]);
    const [job] = await sql<{ error: string }>('SELECT error FROM jobs WHERE id = $1', catalogDb, [
      claimed?.id,
    ]);
    expect(job?.error).toBe(ended?.error);
  });
});

/**
 * `kill -9` of a `lifeboat restore` while it copies keys into a redis database: the next
 * worker's sweep takes back the keys it wrote, from the journal it kept outside staging, and
 * no redis-server it started outlives it.
 */
describe('a redis restore killed while it copies keys', () => {
  const catalogDb = uniqueName('lb_undo_redis');
  const queuePrefix = uniqueQueuePrefix();
  const KEYS = 40_000;
  let dir: string;
  let env: Record<string, string>;
  let redis: KillableRedis;
  const running: RunningLifeboat[] = [];

  beforeAll(async () => {
    redis = await startKillableRedis();
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-undo-redis-'));
    const client = new Redis(`${redis.url}/0`);
    for (let from = 0; from < KEYS; from += 5_000) {
      const batch = client.pipeline();
      for (let i = from; i < from + 5_000; i++) batch.set(`key:${i}`, `value ${i}`);
      await batch.exec();
    }
    client.disconnect();
    await mkdir(join(dir, 'tmp'));
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: cache
storage: { local: { path: ./backups } }
targets:
  cache: { kind: redis, url: "${redis.url}/0", environment: staging }
  cache-copy: { kind: redis, url: "${redis.url}/1", environment: development }
profiles:
  cache: { targets: [cache] }
`,
    );
    env = {
      DATABASE_URL: databaseUrl(catalogDb),
      LIFEBOAT_QUEUE_PREFIX: queuePrefix,
      TMPDIR: join(dir, 'tmp'),
    };
  });

  afterAll(async () => {
    for (const each of running) await each.kill('SIGKILL');
    await redis?.kill();
    await obliterateQueue(queuePrefix);
    await dropDatabase(catalogDb);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has the keys it wrote taken back by the next worker, which says the database is unchanged', async () => {
    const created = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(created.code, created.stderr).toBe(0);
    const backupId = String(lastJson(created.stdout).id);

    const copy = new Redis(`${redis.url}/1`);
    try {
      const restore = startLifeboat(['restore', backupId, '--into', 'cache=cache-copy', '--json'], {
        cwd: dir,
        env,
      });
      running.push(restore);
      restore.endInput();
      // Stopped (then killed) as soon as keys arrive: half way through the copy.
      await vi.waitFor(
        async () => {
          expect(await copy.dbsize(), restore.stderr()).toBeGreaterThan(0);
        },
        { ...WAIT, interval: 2 },
      );
      await restore.kill('SIGKILL');
      const written = await copy.dbsize();
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThan(KEYS);
      const [claimed] = await sql<{ id: string }>('SELECT id FROM restores', catalogDb);

      await sweptByAWorker(dir, env, running, async () => {
        const [ended] = await sql<{ status: string }>(
          'SELECT status FROM restores WHERE id = $1',
          catalogDb,
          [claimed?.id],
        );
        expect(ended?.status).toBe('failed');
      });
      expect(await copy.dbsize()).toBe(0);
      const [ended] = await sql<{ error: string; results: { components: unknown[] } }>(
        'SELECT error, results FROM restores WHERE id = $1',
        catalogDb,
        [claimed?.id],
      );
      expect(ended?.error).toContain('cache-copy: unchanged');
      expect(ended?.results.components).toEqual([
        expect.objectContaining({ destination: 'cache-copy', destinationState: 'unchanged' }),
      ]);
      // The journal is gone once replayed; nothing of the restore is left under TMPDIR.
      expect(await leftUnder(join(dir, 'tmp'))).toEqual([]);
    } finally {
      copy.disconnect();
    }
  });
});

/**
 * `kill -9` of a `lifeboat restore` while pg_restore fills the side database: the next worker's
 * sweep drops that database and says the destination is unchanged (it was never touched).
 */
describe('a postgres restore killed while pg_restore runs', () => {
  const catalogDb = uniqueName('lb_undo_pg');
  const sourceDb = uniqueName('lb_undo_src');
  const destDb = uniqueName('lb_undo_dst');
  const queuePrefix = uniqueQueuePrefix();
  let dir: string;
  let env: Record<string, string>;
  const running: RunningLifeboat[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-undo-pg-'));
    await createDatabase(sourceDb);
    await sql(
      "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 400000) g",
      sourceDb,
    );
    await createDatabase(destDb);
    await sql(
      "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'mine')",
      destDb,
    );
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `defaultProfile: db
storage: { local: { path: ./backups } }
targets:
  db: { kind: postgres, url: "${databaseUrl(sourceDb)}", environment: staging }
  db-copy: { kind: postgres, url: "${databaseUrl(destDb)}", environment: development }
profiles:
  db: { targets: [db] }
`,
    );
    env = { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: queuePrefix };
  });

  afterAll(async () => {
    for (const each of running) await each.kill('SIGKILL');
    await obliterateQueue(queuePrefix);
    for (const db of [catalogDb, sourceDb, destDb]) await dropDatabase(db);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sideDatabases = async () =>
    (
      await sql<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'lifeboat\\_restore\\_%' AND datname LIKE $1",
        'postgres',
        [`%${destDb}`],
      )
    ).map((r) => r.datname);

  it('has its side database dropped by the next worker, which says the destination is unchanged', async () => {
    const created = await runLifeboat(['backup', 'create', '--json'], { cwd: dir, env });
    expect(created.code, created.stderr).toBe(0);
    const backupId = String(lastJson(created.stdout).id);
    const before = await tableChecksums(destDb);

    const restore = startLifeboat(['restore', backupId, '--into', 'db=db-copy', '--json'], {
      cwd: dir,
      env,
    });
    running.push(restore);
    restore.endInput();
    await vi.waitFor(
      async () => {
        expect(await sideDatabases(), restore.stderr()).toHaveLength(1);
      },
      { ...WAIT, interval: 5 },
    );
    await restore.kill('SIGKILL');
    const [claimed] = await sql<{ id: string }>('SELECT id FROM restores', catalogDb);

    await sweptByAWorker(dir, env, running, async () => {
      const [ended] = await sql<{ status: string }>(
        'SELECT status FROM restores WHERE id = $1',
        catalogDb,
        [claimed?.id],
      );
      expect(ended?.status).toBe('failed');
      expect(await sideDatabases()).toEqual([]);
    });
    expect(await tableChecksums(destDb)).toEqual(before);
    const [ended] = await sql<{ error: string; results: { components: unknown[] } }>(
      'SELECT error, results FROM restores WHERE id = $1',
      catalogDb,
      [claimed?.id],
    );
    // The side database is dropped by this sweep, or by the leftover sweep every worker runs
    // on its postgres servers at start: either way the swap never happened.
    expect(ended?.error).toMatch(
      /db-copy: unchanged \((the swap had not happened|nothing of it was swapped in)/,
    );
    expect(ended?.results.components).toEqual([
      expect.objectContaining({
        destination: 'db-copy',
        status: 'failed',
        destinationState: 'unchanged',
      }),
    ]);
  });
});

/** Files left under `root`, however deep. */
async function leftUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isDirectory()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

/** Runs `lifeboat worker` until `swept` passes, then stops it with SIGTERM. */
async function sweptByAWorker(
  dir: string,
  env: Record<string, string>,
  running: RunningLifeboat[],
  swept: () => Promise<void>,
): Promise<void> {
  const worker = startLifeboat(['worker'], { cwd: dir, env });
  running.push(worker);
  try {
    await vi.waitFor(swept, WAIT);
  } finally {
    await worker.kill('SIGTERM');
  }
}

/**
 * Every path under `root` (and `root` itself) with its kind, mode, mtime to the millisecond
 * and content, to tell whether anything changed.
 */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of ['', ...(await readdir(root, { recursive: true })).sort()]) {
    const path = join(root, entry);
    const info = await lstat(path);
    const common = `${(info.mode & 0o7777).toString(8)} ${Math.floor(info.mtimeMs)}`;
    out[entry] = info.isDirectory()
      ? `dir ${common}`
      : `${common} ${createHash('sha256')
          .update(await readFile(path))
          .digest('hex')}`;
  }
  return out;
}
