import pg from 'pg';
import { withDefaultUser } from '../../src/catalog/database.ts';
import { PG_SERVER } from './databases.ts';

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  return `${PG_SERVER}/${name}`;
}

/**
 * Runs `sql` in `database` on the test server. Fills in the OS user like libpq does, so it works
 * where `USER` is not set.
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

export async function dropTestDatabase(name: string): Promise<void> {
  await sql(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
}
