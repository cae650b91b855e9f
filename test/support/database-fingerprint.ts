import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { databaseSettings } from './database-settings.ts';
import { databaseUrl, sql } from './databases.ts';

const run = promisify(execFile);

/**
 * Everything a restore must bring back, in a form two databases can be compared by: equal
 * fingerprints mean equal schemas, rows, sequences, large objects and database settings.
 */
export interface DatabaseFingerprint {
  /** `pg_dump --schema-only` without comments and the random `\restrict` keys. */
  readonly schema: string;
  /** Per table, partition and materialized view: its own rows' count and md5, in order. */
  readonly rows: Record<string, string>;
  /** Per sequence: `last_value is_called`. */
  readonly sequences: Record<string, string>;
  /** Per large object: the md5 of its bytes and its comment. */
  readonly largeObjects: Record<string, string>;
  /** Settings, role settings, comment, connection limit, encoding, locale. */
  readonly settings: unknown;
}

/** The fingerprint of `database` on the test server. */
export async function fingerprint(database: string): Promise<DatabaseFingerprint> {
  return {
    schema: await schemaOf(database),
    rows: await rowsOf(database),
    sequences: await sequencesOf(database),
    largeObjects: await largeObjectsOf(database),
    settings: await databaseSettings(database),
  };
}

async function schemaOf(database: string): Promise<string> {
  const { stdout } = await run(
    'pg_dump',
    ['--schema-only', '--no-owner', '--no-acl', `--dbname=${databaseUrl(database)}`],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('--') && !/^\\(un)?restrict /.test(line) && line !== '')
    .join('\n');
}

async function rowsOf(database: string): Promise<Record<string, string>> {
  const relations = await sql<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'm')
        and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
      order by 1, 2`,
    database,
  );
  const out: Record<string, string> = {};
  for (const { schema, name } of relations) {
    const relation = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
    const [row] = await sql<{ rows: string; md5: string }>(
      `select count(*) as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5
         from only ${relation} t`,
      database,
    );
    out[`${schema}.${name}`] = `${row?.rows} rows, md5 ${row?.md5}`;
  }
  return out;
}

async function sequencesOf(database: string): Promise<Record<string, string>> {
  const sequences = await sql<{ schema: string; name: string }>(
    `select schemaname as schema, sequencename as name from pg_sequences order by 1, 2`,
    database,
  );
  const out: Record<string, string> = {};
  for (const { schema, name } of sequences) {
    const relation = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
    const [row] = await sql<{ last: string; called: boolean }>(
      `select last_value::text as last, is_called as called from ${relation}`,
      database,
    );
    out[`${schema}.${name}`] = `${row?.last} ${row?.called ? 'called' : 'not called'}`;
  }
  return out;
}

async function largeObjectsOf(database: string): Promise<Record<string, string>> {
  const rows = await sql<{ oid: string; md5: string; comment: string | null }>(
    `select oid::text as oid, md5(lo_get(oid)) as md5,
            obj_description(oid, 'pg_largeobject') as comment
       from pg_largeobject_metadata order by oid`,
    database,
  );
  return Object.fromEntries(rows.map((r) => [r.oid, `${r.md5} ${r.comment ?? ''}`]));
}
