import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifeboatConfig } from '../../src/config/schema.ts';
import { planRestore } from '../../src/restore/plan-restore.ts';
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

function assertNever(): never {
  throw new Error('missing target');
}
