import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifeboatConfig } from '../../src/config/schema.ts';
import { startTemporaryTcpRedis } from '../../src/redis/temporary-redis.ts';
import { planRestore } from '../../src/restore/plan-restore.ts';
import { restoreCheckedLines, restoreProblems } from '../../src/restore/restore-checks.ts';
import { gatherRestoreFacts } from '../../src/restore/restore-facts.ts';
import { sampleComponent, sampleManifest } from '../doubles/sample-backups.ts';
import { testConfig } from '../doubles/test-config.ts';
import {
  createDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';

/** What a dry run finds out on this side, against the real servers and file system. */
describe('the facts a restore plan is checked against', () => {
  let dir: string;
  let config: LifeboatConfig;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-facts-'));
    await writeFile(join(dir, 'a-file'), 'not a directory\n');
    config = testConfig({
      targets: {
        'new-db': {
          kind: 'postgres',
          url: `postgres://127.0.0.1:5432/${uniqueName('lb_facts_none')}`,
          environment: 'staging',
        },
        'gone-db': { kind: 'postgres', url: 'postgres://127.0.0.1:1/x', environment: 'staging' },
        cache: { kind: 'redis', url: 'redis://127.0.0.1:6379/5', environment: 'staging' },
        'gone-cache': { kind: 'redis', url: 'redis://127.0.0.1:1/0', environment: 'staging' },
        files: { kind: 'directory', path: join(dir, 'restored/here'), environment: 'staging' },
        blocked: { kind: 'directory', path: join(dir, 'a-file/below'), environment: 'staging' },
      },
    });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds which destinations answer or can be written, the tools on the PATH and the space free', async () => {
    const manifest = sampleManifest(
      { id: 'bk_20261122T020000Z_full_7q3k', profile: 'full', note: null, requestedBy: 'cli:x' },
      [
        sampleComponent('pg-a', 'postgres'),
        sampleComponent('pg-b', 'postgres'),
        sampleComponent('redis-a', 'redis'),
        sampleComponent('redis-b', 'redis'),
        sampleComponent('dir-a', 'directory'),
        sampleComponent('dir-b', 'directory'),
      ],
      '/backups/x',
      new Date('2026-11-22T02:00:00Z'),
    );
    const plan = planRestore({
      manifest,
      config,
      selection: {
        into: {
          'pg-a': 'new-db',
          'pg-b': 'gone-db',
          'redis-a': 'cache',
          'redis-b': 'gone-cache',
          'dir-a': 'files',
          'dir-b': 'blocked',
        },
      },
    });
    const facts = await gatherRestoreFacts(plan, {
      config,
      manifest,
      env: {},
      path: '/nonexistent:/usr/bin',
      stagingDirectory: dir,
    });
    expect(facts.identities).toEqual([]);
    expect(facts.tools).toEqual({ pg_restore: true, 'redis-server': true, tar: true });
    expect(facts.destinations['new-db']).toBeNull();
    expect(facts.destinations.cache).toBeNull();
    expect(facts.destinations.files).toBeNull();
    expect(facts.destinations['gone-db']).toMatch(
      /cannot be reached at postgres:\/\/127\.0\.0\.1:1\/x: connection refused/,
    );
    expect(facts.destinations['gone-cache']).toMatch(
      /cannot be reached at redis:\/\/127\.0\.0\.1:1\/0: connection refused/,
    );
    expect(facts.destinations.blocked).toContain('cannot be written');
    expect(facts.destinations.blocked).toContain('ENOTDIR');
    expect(facts.staging.freeBytes).toBeGreaterThan(0);
    // Asked only where the tool is there and the destination answers.
    expect(facts.refusals).toEqual({ 'pg-a': null, 'redis-a': null, 'dir-a': null });

    const bare = await gatherRestoreFacts(plan, {
      config,
      manifest,
      env: {},
      path: '/nonexistent',
    });
    expect(bare.tools).toEqual({ pg_restore: false, 'redis-server': false, tar: false });
    expect(bare.refusals).toEqual({});
  });

  it('asks each restorer what it would refuse: a role without CREATEDB, the catalog’s database', async () => {
    const role = uniqueName('lb_facts_nocreatedb');
    const catalog = uniqueName('lb_facts_catalog');
    await sql(`CREATE ROLE ${role} LOGIN NOCREATEDB`, 'postgres');
    try {
      const targets = {
        limited: {
          kind: 'postgres' as const,
          url: `postgres://${role}@127.0.0.1:5432/${uniqueName('lb_facts_limited')}`,
          environment: 'staging' as const,
        },
        catalog: {
          kind: 'postgres' as const,
          url: databaseUrl(catalog),
          environment: 'staging' as const,
        },
        fine: config.targets['new-db'] ?? assertNever(),
      };
      const withTargets = testConfig({ targets });
      await createDatabase(catalog);
      const manifest = sampleManifest(
        { id: 'bk_20261122T020000Z_full_7q3k', profile: 'full', note: null, requestedBy: 'x:y' },
        [
          sampleComponent('a', 'postgres'),
          sampleComponent('b', 'postgres'),
          sampleComponent('c', 'postgres'),
        ],
        '/backups/x',
        new Date('2026-11-22T02:00:00Z'),
      );
      const plan = planRestore({
        manifest,
        config: withTargets,
        selection: { into: { a: 'limited', b: 'catalog', c: 'fine' } },
      });
      const facts = await gatherRestoreFacts(plan, {
        config: withTargets,
        manifest,
        env: {},
        catalogUrl: databaseUrl(catalog),
      });
      expect(facts.refusals.a).toContain(`needs the role ${role} to have the CREATEDB privilege`);
      expect(facts.refusals.b).toContain("is Lifeboat's catalog database");
      expect(facts.refusals.c).toBeNull();
    } finally {
      await dropDatabase(catalog);
      await sql(`DROP ROLE IF EXISTS ${role}`, 'postgres');
    }
  });
});

describe('what a redis restore would refuse, found by the dry run', () => {
  it('refuses a destination database that holds keys, and not an empty one', async () => {
    const server = await startTemporaryTcpRedis({ password: null });
    try {
      const client = new Redis(`${server.url}/3`);
      await client.set('someone:else', 'value');
      client.disconnect();
      const config = testConfig({
        targets: {
          busy: { kind: 'redis', url: `${server.url}/3`, environment: 'staging' },
          empty: { kind: 'redis', url: `${server.url}/4`, environment: 'staging' },
        },
      });
      const manifest = sampleManifest(
        { id: 'bk_20261122T020000Z_cache_7q3k', profile: 'cache', note: null, requestedBy: 'x:y' },
        [sampleComponent('a', 'redis'), sampleComponent('b', 'redis')],
        '/backups/x',
        new Date('2026-11-22T02:00:00Z'),
      );
      const plan = planRestore({
        manifest,
        config,
        selection: { into: { a: 'busy', b: 'empty' } },
      });
      const facts = await gatherRestoreFacts(plan, { config, manifest, env: {} });
      expect(facts.refusals.a).toMatch(
        /db 3 holds 1 keys: a redis restore goes into an empty database\. Flush it first/,
      );
      expect(facts.refusals.b).toBeNull();
    } finally {
      await server.stop();
    }
  });
});

describe('a redis destination that answers but wants a password', () => {
  it('says it refuses Lifeboat, without a password or with the wrong one, and not that it is unreachable', async () => {
    const server = await startTemporaryTcpRedis({ password: 'sesame' });
    try {
      const url = new URL(server.url);
      const config = testConfig({
        targets: {
          none: { kind: 'redis', url: `redis://${url.host}/0`, environment: 'staging' },
          wrong: { kind: 'redis', url: `redis://:nope@${url.host}/0`, environment: 'staging' },
          right: { kind: 'redis', url: `redis://:sesame@${url.host}/0`, environment: 'staging' },
        },
      });
      const manifest = sampleManifest(
        { id: 'bk_20261122T020000Z_cache_7q3k', profile: 'cache', note: null, requestedBy: 'x:y' },
        [
          sampleComponent('a', 'redis'),
          sampleComponent('b', 'redis'),
          sampleComponent('c', 'redis'),
        ],
        '/backups/x',
        new Date('2026-11-22T02:00:00Z'),
      );
      const plan = planRestore({
        manifest,
        config,
        selection: { into: { a: 'none', b: 'wrong', c: 'right' } },
      });
      const facts = await gatherRestoreFacts(plan, { config, manifest, env: {} });
      expect(facts.destinations.none).toMatch(/^answers at .* but refuses Lifeboat: NOAUTH/);
      expect(facts.destinations.wrong).toMatch(/^answers at .* but refuses Lifeboat: WRONGPASS/);
      expect(facts.destinations.wrong).not.toContain('nope');
      expect(facts.destinations.right).toBeNull();
      expect(facts.refusals.c).toBeNull();
    } finally {
      await server.stop();
    }
  });
});

describe('the facts of a directory destination: space and a bounded writability check', () => {
  const run = promisify(execFile);
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-dir-facts-'));
  });

  afterAll(async () => {
    await run('chattr', ['-R', '-i', dir]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  const manifestOf = (...components: ReturnType<typeof sampleComponent>[]) =>
    sampleManifest(
      { id: 'bk_20261122T020000Z_files_7q3k', profile: 'files', note: null, requestedBy: 'x:y' },
      components,
      '/backups/x',
      new Date('2026-11-22T02:00:00Z'),
    );

  async function check(
    targets: Record<string, string>,
    components: ReturnType<typeof sampleComponent>[],
    into: Record<string, string>,
    stagingDirectory = dir,
  ) {
    const config = testConfig({
      targets: Object.fromEntries(
        Object.entries(targets).map(([name, path]) => [
          name,
          { kind: 'directory' as const, path, environment: 'staging' as const },
        ]),
      ),
    });
    const manifest = manifestOf(...components);
    const plan = planRestore({ manifest, config, selection: { into } });
    const facts = await gatherRestoreFacts(plan, {
      config,
      manifest,
      env: {},
      stagingDirectory,
    });
    return {
      facts,
      problems: restoreProblems(plan, manifest, facts),
      checked: restoreCheckedLines(plan, facts),
    };
  }

  it('refuses a component larger than the space free where it is extracted, naming both', async () => {
    const fits = join(dir, 'fits');
    await mkdir(fits);
    // Staged on another file system: only the extraction counts against the destination's.
    const staging = await mkdtemp('/dev/shm/lifeboat-dir-facts-');
    try {
      const { problems } = await check(
        { small: fits, large: join(dir, 'not-yet/created') },
        [
          sampleComponent('tiny', 'directory', { bytes: 1024 }),
          // 10 PiB stored, 30 PiB of tar: more than any disk here.
          sampleComponent('huge', 'directory', { bytes: 10 * 1024 ** 5 }),
        ],
        { tiny: 'small', huge: 'large' },
        staging,
      );
      expect(problems).toEqual([
        {
          component: 'huge',
          check: 'space',
          message: expect.stringMatching(
            new RegExp(
              `^restoring \`huge\` into \`large\` needs about 30\\.0 PiB free in ${dir} here \\(30\\.0 PiB extracted beside its files before they are moved into place\\), and only .* is free there$`,
            ),
          ),
        },
        { component: null, check: 'space', message: expect.stringMatching(/^staging needs/) },
      ]);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });

  it('counts what is staged on the same file system against the destination too', async () => {
    const destination = join(dir, 'shared');
    await mkdir(destination);
    const free = (await statfs(dir)).bavail * (await statfs(dir)).bsize;
    // Three quarters of the space free: it stages, but cannot be extracted beside its staged copy.
    const { problems } = await check(
      { shared: destination },
      [sampleComponent('files', 'directory', { bytes: Math.floor(free / 4) })],
      { files: 'shared' },
    );
    expect(problems).toEqual([
      {
        component: 'files',
        check: 'space',
        message: expect.stringMatching(
          / staged on the same file system\), and only .* is free there$/,
        ),
      },
    ]);
  });

  it('finds a directory inside the destination that cannot be written, and says what it checked', async () => {
    const destination = join(dir, 'locked');
    await mkdir(join(destination, 'open/deeper'), { recursive: true });
    await mkdir(join(destination, 'sealed'));
    // Immutable: not even root may move entries into it, as a restore does.
    await run('chattr', ['+i', join(destination, 'sealed')]);
    const { facts, checked } = await check(
      { locked: destination },
      [sampleComponent('files', 'directory', { bytes: 10 })],
      { files: 'locked' },
    );
    expect(facts.destinations.locked).toMatch(
      new RegExp(`^cannot be written: the directory ${destination}/sealed inside it .*EPERM`),
    );
    expect(checked).toEqual([expect.stringMatching(/^`locked`: .*locked and .* were checked$/)]);

    await run('chattr', ['-i', join(destination, 'sealed')]);
    const again = await check(
      { locked: destination },
      [sampleComponent('files', 'directory', { bytes: 10 })],
      { files: 'locked' },
    );
    expect(again.facts.destinations.locked).toBeNull();
    expect(again.checked).toEqual([
      `\`locked\`: ${destination} and all 3 directories inside it can be written`,
    ]);
  });

  it('samples a large destination instead of reading all of it, and says so', async () => {
    const destination = join(dir, 'large-tree');
    await mkdir(destination);
    for (let i = 0; i < 260; i++) await mkdir(join(destination, `d${String(i).padStart(3, '0')}`));
    const { facts, checked } = await check(
      { big: destination },
      [sampleComponent('files', 'directory', { bytes: 10 })],
      { files: 'big' },
    );
    expect(facts.destinations.big).toBeNull();
    expect(checked).toEqual([
      `\`big\`: ${destination} and a sample of 200 directories inside it (it holds more; the check stops at 200 directories or 10000 entries) can be written`,
    ]);
  });
});

function assertNever(): never {
  throw new Error('missing target');
}
