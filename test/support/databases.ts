import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { withDefaultUser } from '../../src/catalog/database.ts';

const run = promisify(execFile);
export const PG_SERVER = 'postgres://127.0.0.1:5432';

/** A unique, lowercase database name for one test suite. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  database = 'postgres',
): Promise<T[]> {
  const client = new pg.Client({ connectionString: withDefaultUser(`${PG_SERVER}/${database}`) });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

export async function createDatabase(name: string): Promise<string> {
  await adminQuery(`create database "${name}"`);
  return `${PG_SERVER}/${name}`;
}

export async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`drop database if exists "${name}" with (force)`);
}

/** A pgbench database: pgbench_accounts holds 100 000 rows per scale step. */
export async function createPgbenchDatabase(name: string, scale = 1): Promise<string> {
  const url = await createDatabase(name);
  await run('pgbench', ['-i', '-q', '-s', String(scale), '-h', '127.0.0.1', '-p', '5432', name]);
  return url;
}
