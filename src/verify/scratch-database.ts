import pg from 'pg';
import { quoteIdentifier } from '../catalog/database.ts';
import { BackupError, LifeboatError } from '../core/errors.ts';
import { randomSuffix } from '../core/ids.ts';
import { splitPassword, urlForDatabase, withDefaultUser } from '../postgres/connection-url.ts';

/** Every throwaway database a restore test makes is named this and a random suffix. */
export const SCRATCH_DATABASE_PREFIX = 'lifeboat_verify_';

/** A connection attempt that gets no answer fails after this long instead of hanging a job. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Creates a throwaway database `lifeboat_verify_<random>` on the server at `serverUrl` (a user
 * that may CREATE DATABASE), runs `work` with its URL and name, and drops it afterwards
 * whatever happened — `work` failing or its signal aborting — ending any session still in it.
 * A database that cannot be dropped is an error naming it, so it never goes unnoticed.
 */
export async function withScratchDatabase<T>(
  serverUrl: string,
  work: (url: string, name: string) => Promise<T>,
): Promise<T> {
  const name = `${SCRATCH_DATABASE_PREFIX}${randomSuffix(10)}`;
  const server = splitPassword(serverUrl).url;
  try {
    await onServer(serverUrl, `CREATE DATABASE ${quoteIdentifier(name)}`);
  } catch (error) {
    throw new BackupError(
      'scratch_unavailable',
      `could not create the scratch database ${name} on ${server}: ${messageOf(error)} (set scratch.postgres to a server whose user may CREATE DATABASE)`,
      { cause: error },
    );
  }
  let result: T;
  try {
    result = await work(urlForDatabase(serverUrl, name), name);
  } catch (error) {
    const dropError = await drop(serverUrl, name);
    if (!dropError) throw error;
    const code = error instanceof LifeboatError ? error.code : 'verify_failed';
    throw new BackupError(
      code,
      `${messageOf(error)} (and dropping the scratch database ${name} on ${server} failed too: ${messageOf(dropError)}; drop it by hand)`,
      { cause: error },
    );
  }
  const dropError = await drop(serverUrl, name);
  if (dropError) {
    throw new BackupError(
      'scratch_drop_failed',
      `the scratch database ${name} on ${server} could not be dropped: ${messageOf(dropError)}; drop it by hand`,
      { cause: dropError },
    );
  }
  return result;
}

/** Drops the database, ending its sessions; resolves to the error when that failed. */
async function drop(serverUrl: string, name: string): Promise<unknown> {
  try {
    await onServer(serverUrl, `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    return undefined;
  } catch (error) {
    return error;
  }
}

async function onServer(url: string, sql: string): Promise<void> {
  const client = new pg.Client({
    connectionString: withDefaultUser(url),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'lifeboat verify',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
