import pg from 'pg';
import { urlForDatabase, withDefaultUser } from '../postgres/connection-url.ts';
import { quoteIdentifier, sqlState } from './database.ts';

/** SQLSTATE 3D000: the database named in the connection does not exist. */
export const INVALID_CATALOG_NAME = '3D000';
/** SQLSTATE 42P04: `CREATE DATABASE` found the name taken. */
const DUPLICATE_DATABASE = '42P04';
/** SQLSTATE 23505: two `CREATE DATABASE` racing can also end in a unique violation in pg_database. */
const UNIQUE_VIOLATION = '23505';

/** The database a PostgreSQL URL connects to, as the driver resolves it. */
export function databaseName(url: string): string {
  const name = new pg.Client({ connectionString: withDefaultUser(url) }).database;
  if (!name) throw new Error('the PostgreSQL URL names no database');
  return name;
}

/**
 * Creates the database `url` names when it does not exist, through the server's `postgres`
 * maintenance database. Returns true when this call created it; a database created at the same
 * moment by another process counts as existing.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  if (await databaseExists(url)) return false;
  return createDatabase(url, databaseName(url));
}

/** True when a connection to `url` succeeds, false when its database does not exist. */
export async function databaseExists(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: withDefaultUser(url) });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (error) {
    if (sqlState(error) === INVALID_CATALOG_NAME) return false;
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs `CREATE DATABASE name` on the server of `url`. Returns false when the name was already
 * taken (also by a concurrent creator).
 */
export async function createDatabase(url: string, name: string): Promise<boolean> {
  const client = new pg.Client({
    connectionString: withDefaultUser(urlForDatabase(url, 'postgres')),
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    return true;
  } catch (error) {
    const state = sqlState(error);
    if (state === DUPLICATE_DATABASE || state === UNIQUE_VIOLATION) return false;
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
