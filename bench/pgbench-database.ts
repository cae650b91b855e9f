import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { urlForDatabase, withDefaultUser } from '../src/postgres/connection-url.ts';

const run = promisify(execFile);

/** pgbench's data grows by about this much per scale step (100 000 accounts with their index). */
export const BYTES_PER_SCALE = 15e6;

/** The pgbench scale that gives a database of about `bytes`. */
export function scaleFor(bytes: number): number {
  return Math.max(1, Math.round(bytes / BYTES_PER_SCALE));
}

/** A pgbench database ready to back up. */
export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  readonly scale: number;
  /** pg_database_size: heap, indexes and catalogs. */
  readonly databaseBytes: number;
  /** Whether this run created it (rather than reusing a kept one). */
  readonly created: boolean;
}

/**
 * The database `<namespace>_<scale>` (`lifeboat_bench_67`): reused when it exists (a run with
 * `--keep` left it), unless `fresh`; otherwise created with `pgbench -i`.
 */
export async function ensurePgbenchDatabase(
  serverUrl: string,
  namespace: string,
  scale: number,
  fresh: boolean,
): Promise<BenchDatabase> {
  const name = `${namespace}_${scale}`;
  const url = urlForDatabase(serverUrl, name);
  const exists = await databaseExists(serverUrl, name);
  if (exists && fresh) await dropDatabase(serverUrl, name);
  const create = !exists || fresh;
  if (create) {
    await createDatabase(serverUrl, name);
    try {
      await run('pgbench', ['-i', '-q', '-s', String(scale), withDefaultUser(url)], {
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      await dropDatabase(serverUrl, name);
      throw error;
    }
  }
  const rows = await query<{ bytes: string }>(
    url,
    'select pg_database_size(current_database())::text as bytes',
  );
  return { name, url, scale, databaseBytes: Number(rows[0]?.bytes ?? 0), created: create };
}

export async function databaseExists(serverUrl: string, name: string): Promise<boolean> {
  const rows = await query(serverUrl, 'select 1 from pg_database where datname = $1', [name]);
  return rows.length > 0;
}

/** An empty database to restore into; returns its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  await query(serverUrl, `create database ${pg.escapeIdentifier(name)}`);
  return urlForDatabase(serverUrl, name);
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await query(serverUrl, `drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
}

/** Rows in every table, to check a restore brought all of them back. */
export async function countRows(url: string): Promise<Record<string, number>> {
  const tables = ['pgbench_accounts', 'pgbench_branches', 'pgbench_tellers', 'pgbench_history'];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const rows = await query<{ n: string }>(url, `select count(*)::text as n from only ${table}`);
    counts[table] = Number(rows[0]?.n ?? 0);
  }
  return counts;
}

async function query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: withDefaultUser(url) });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}
