import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/run-backup.ts';
import { configSchema } from '../../src/config/schema.ts';
import { startTemporaryTcpRedis, type TemporaryTcpRedis } from '../../src/redis/temporary-redis.ts';
import { planRestore } from '../../src/restore/plan-restore.ts';
import { restorerFor } from '../../src/restore/restorers/index.ts';
import { runRestore } from '../../src/restore/run-restore.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { verifyBackup } from '../../src/verify/verify-backup.ts';
import { createDatabase, dropDatabase, sql, uniqueName } from '../support/databases.ts';

/** Secrets a worker holds in its environment, which no child tool needs. */
const SECRETS = {
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-test-secret',
  LIFEBOAT_AGE_IDENTITY: 'AGE-SECRET-KEY-1TESTSECRET',
  SLACK_BOT_TOKEN: 'xoxb-test-secret',
  OTHER_TARGET_URL: 'postgres://admin:other-target-secret@db.internal/prod',
  PGPASSWORD: 'parent-pgpassword-secret',
  REDISCLI_AUTH: 'parent-rediscli-secret',
};
const TOOLS = [
  'pg_dump',
  'pg_restore',
  'tar',
  'zstd',
  'redis-cli',
  'redis-server',
  'redis-check-rdb',
];

/**
 * Every tool Lifeboat runs goes through a wrapper on the PATH that records its environment and
 * runs the real tool: a backup, a level-3 verification and a restore of postgres, a directory
 * and redis, with secrets in Lifeboat's environment.
 */
describe('the environment child tools get', () => {
  let dir: string;
  let bin: string;
  let redis: TemporaryTcpRedis;
  const saved: Record<string, string | undefined> = {};
  const sourceDb = uniqueName('lb_env_src');
  const restoredDb = uniqueName('lb_env_dst');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-child-env-'));
    bin = join(dir, 'bin');
    await mkdir(join(dir, 'seen'), { recursive: true });
    await mkdir(bin);
    const realPath = process.env.PATH ?? '';
    for (const tool of TOOLS) {
      const wrapper = join(bin, tool);
      await writeFile(
        wrapper,
        `#!/bin/sh\n{ echo "ARGS=$*"; env; } > "${dir}/seen/${tool}.$$"\nPATH='${realPath}'\nexport PATH\nexec ${tool} "$@"\n`,
      );
      await chmod(wrapper, 0o755);
    }
    await createDatabase(sourceDb);
    await sql('CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 10)', sourceDb);
    redis = await startTemporaryTcpRedis({ password: null });
    const client = new Redis(`${redis.url}/0`);
    await client.set('k', 'v');
    client.disconnect();
    await mkdir(join(dir, 'tree'));
    await writeFile(join(dir, 'tree', 'a.txt'), 'alpha\n');
    for (const [name, value] of Object.entries({ ...SECRETS, PATH: `${bin}:${realPath}` })) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await redis?.stop();
    await dropDatabase(sourceDb);
    await dropDatabase(restoredDb);
    await rm(dir, { recursive: true, force: true });
  });

  it('is only what each tool needs: no secret of the worker reaches any of them, and they all still work', async () => {
    const config = configSchema.parse({
      targets: {
        db: {
          kind: 'postgres',
          url: `postgres://root:url-password@127.0.0.1:5432/${sourceDb}`,
          environment: 'staging',
        },
        'db-copy': {
          kind: 'postgres',
          url: `postgres://root:url-password@127.0.0.1:5432/${restoredDb}`,
          environment: 'staging',
        },
        files: { kind: 'directory', path: join(dir, 'tree'), environment: 'staging' },
        'files-copy': { kind: 'directory', path: join(dir, 'restored'), environment: 'staging' },
        cache: { kind: 'redis', url: `${redis.url}/0`, environment: 'staging' },
      },
      profiles: { all: { targets: ['db', 'files', 'cache'] } },
    });
    const store = new LocalBackupStore({ root: join(dir, 'store') });
    const manifest = await runBackup({
      id: 'bk_20261122T020000Z_all_env1',
      profile: 'all',
      note: null,
      requestedBy: 'console:alice',
      targets: ['db', 'files', 'cache'].map((name) => ({
        name,
        config: config.targets[name] ?? (undefined as never),
      })),
      compression: 'zstd',
      store,
    });
    const report = await verifyBackup({
      store,
      backupId: manifest.id,
      level: 3,
      restoreTest: { postgresUrl: 'postgres://127.0.0.1:5432/postgres', directory: dir },
    });
    expect(report.error).toBeNull();
    expect(report.ok).toBe(true);
    const plan = planRestore({
      manifest,
      config,
      selection: { into: { db: 'db-copy', files: 'files-copy' }, components: ['db', 'files'] },
      describe: (c, d) => restorerFor(c.kind).describe(c, d),
    });
    await mkdir(join(dir, 'staging'));
    const restored = await runRestore({
      restoreId: 'rs_env',
      plan,
      manifest,
      config,
      store,
      identities: [],
      stagingDirectory: join(dir, 'staging'),
    });
    expect(restored.error).toBeNull();
    expect(restored.ok).toBe(true);
    expect(await readFile(join(dir, 'restored', 'a.txt'), 'utf8')).toBe('alpha\n');

    const seen = new Map<string, string[]>();
    for (const name of await readdir(join(dir, 'seen'))) {
      const tool = name.slice(0, name.lastIndexOf('.'));
      seen.set(tool, [...(seen.get(tool) ?? []), await readFile(join(dir, 'seen', name), 'utf8')]);
    }
    for (const tool of ['pg_dump', 'pg_restore', 'tar', 'zstd', 'redis-cli', 'redis-server']) {
      expect(seen.has(tool), `${tool} ran`).toBe(true);
    }
    for (const [tool, envs] of seen) {
      for (const env of envs) {
        for (const [name, value] of Object.entries(SECRETS)) {
          expect(env, `${tool} sees ${name}`).not.toContain(value);
        }
      }
    }
    // pg tools get the password of the URL they connect to, and only that.
    const connecting = (tool: string) =>
      (seen.get(tool) ?? []).filter((env) => /^ARGS=.*--dbname=/m.test(env));
    expect(connecting('pg_dump')).toHaveLength(1);
    expect(connecting('pg_dump')[0]).toContain('PGPASSWORD=url-password');
    // The restore into db-copy has the URL's password; the level-3 test's scratch server none.
    const passwords = connecting('pg_restore').map((env) => /^PGPASSWORD=(.*)$/m.exec(env)?.[1]);
    expect(passwords.sort()).toEqual(['url-password', undefined]);
  });
});
