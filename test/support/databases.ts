import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { withDefaultUser } from '../../src/postgres/connection-url.ts';

/** Databases on the test server (127.0.0.1:5432, trust authentication), made and dropped by suites. */

const run = promisify(execFile);
const PG_SERVER = 'postgres://127.0.0.1:5432';

/** A unique, lowercase name for one test suite's database, queue prefix or bucket. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  return `${PG_SERVER}/${name}`;
}

/**
 * Runs `text` in `database` on the test server and returns the rows. Fills in the OS user like
 * libpq does, so it works where `USER` is not set.
 */
export async function sql<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  database = 'postgres',
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: withDefaultUser(databaseUrl(database)) });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function databaseExists(name: string): Promise<boolean> {
  const rows = await sql('SELECT 1 FROM pg_database WHERE datname = $1', 'postgres', [name]);
  return rows.length > 0;
}

/** Creates an empty database and returns its URL. */
export async function createDatabase(name: string): Promise<string> {
  await sql(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  return databaseUrl(name);
}

/** A pgbench database: pgbench_accounts holds 100 000 rows per scale step. Returns its URL. */
export async function createPgbenchDatabase(name: string, scale = 1): Promise<string> {
  const url = await createDatabase(name);
  await run('pgbench', ['-i', '-q', '-s', String(scale), '-h', '127.0.0.1', '-p', '5432', name]);
  return url;
}

/** Drops the database if it exists, ending its sessions. */
export async function dropDatabase(name: string): Promise<void> {
  await sql(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
}

/**
 * Each user table's row count and the md5 of its rows as text in a stable order, by
 * `schema.table`: two databases give equal maps only when every table's contents are equal.
 * A parent's own rows only (`ONLY`), so an inheritance child's rows count once, in the child.
 */
export async function tableChecksums(database: string): Promise<Record<string, string>> {
  const tables = await sql<{ schema: string; table: string }>(
    `select table_schema as schema, table_name as table from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
      order by 1, 2`,
    database,
  );
  const sums: Record<string, string> = {};
  for (const { schema, table } of tables) {
    const relation = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`;
    const [row] = await sql<{ rows: string; md5: string }>(
      `select count(*) as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5
         from only ${relation} t`,
      database,
    );
    sums[`${schema}.${table}`] = `${row?.rows} rows, md5 ${row?.md5}`;
  }
  return sums;
}
