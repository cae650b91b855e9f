import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/open-catalog.ts';
import { LifeboatError } from '../../src/core/errors.ts';
import {
  createDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';
import { runLifeboat } from '../support/lifeboat-process.ts';

/** Every table in the database, `schema.table`, sorted. */
async function tablesOf(database: string): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1`,
    database,
  );
  return rows.map((r) => r.name);
}

/**
 * The catalog URL pointing at an application's database by mistake: Lifeboat refuses to install
 * its schema there, saying which database and what it found, and creates nothing.
 */
describe('a catalog URL that names an application database', () => {
  const app = uniqueName('lb_foreign_app');
  const rails = uniqueName('lb_foreign_rails');
  const empty = uniqueName('lb_foreign_empty');
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-foreign-'));
    await createDatabase(app);
    await sql(
      `CREATE TABLE orders (id serial PRIMARY KEY, total numeric);
       CREATE TABLE customers (id serial PRIMARY KEY, name text);
       INSERT INTO orders (total) VALUES (12.5);`,
      app,
    );
    // Another tool's `schema_migrations` (Rails keeps `version` there) is not a Lifeboat catalog.
    await createDatabase(rails);
    await sql(
      `CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
       INSERT INTO schema_migrations VALUES ('20240101000000');`,
      rails,
    );
    await createDatabase(empty);
  });

  afterAll(async () => {
    for (const name of [app, rails, empty]) await dropDatabase(name);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is refused with the database named and its tables listed, and nothing is created', async () => {
    const catalog = await openCatalog(databaseUrl(app));
    try {
      const error = await catalog.migrate().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LifeboatError);
      expect((error as LifeboatError).code).toBe('catalog_not_lifeboat');
      const message = (error as Error).message;
      expect(message).toContain(`database "${app}"`);
      expect(message).toContain('2 tables');
      expect(message).toContain('public.customers');
      expect(message).toContain('public.orders');
      expect(message).toContain('DATABASE_URL');
    } finally {
      await catalog.close();
    }
    expect(await tablesOf(app)).toEqual(['public.customers', 'public.orders']);
    expect(await sql('SELECT count(*)::int AS n FROM orders', app)).toEqual([{ n: 1 }]);
  });

  it("is refused when the database holds another tool's schema_migrations", async () => {
    const catalog = await openCatalog(databaseUrl(rails));
    try {
      await expect(catalog.migrate()).rejects.toThrow(/not a Lifeboat catalog/);
    } finally {
      await catalog.close();
    }
    expect(await tablesOf(rails)).toEqual(['public.schema_migrations']);
  });

  it('`lifeboat migrate` exits 1 saying so, with --json too', async () => {
    const result = await runLifeboat(['migrate', '--json'], {
      cwd: dir,
      env: { DATABASE_URL: databaseUrl(app) },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`database "${app}"`);
    const json = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}');
    expect(json).toMatchObject({ status: 'failed', code: 'catalog_not_lifeboat' });
    expect(await tablesOf(app)).toEqual(['public.customers', 'public.orders']);
  });

  it('installs into an empty database, and migrates a Lifeboat catalog again', async () => {
    for (let i = 0; i < 2; i++) {
      const catalog = await openCatalog(databaseUrl(empty));
      try {
        await catalog.migrate();
      } finally {
        await catalog.close();
      }
    }
    expect(await tablesOf(empty)).toContain('public.schema_migrations');
    expect(await tablesOf(empty)).toContain('public.backups');
  });
});
