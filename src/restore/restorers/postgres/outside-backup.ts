import pg from 'pg';
import type { DumpToc } from '../../../postgres/custom-dump-toc.ts';

/** The destination's relations the dump does not hold: what replacing the destination drops. */
export interface OutsideBackup {
  /** Tables holding rows (`schema.table`): replacing the destination would lose their data. */
  readonly tablesWithRows: readonly string[];
  /** Views, empty tables, sequences…: gone with the database they are in. */
  readonly others: readonly string[];
}

/** The TOC entries that create relations. */
const RELATION_ENTRIES = new Set([
  'TABLE',
  'VIEW',
  'MATERIALIZED VIEW',
  'SEQUENCE',
  'FOREIGN TABLE',
]);

/** User relations, as pg_dump would dump them: not temporary, not an extension's. */
const RELATIONS_SQL = `
  select n.nspname as schema, c.relname as name, c.relkind as kind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
     and c.relpersistence <> 't'
     and n.nspname not in ('pg_catalog', 'information_schema')
     and n.nspname not like 'pg\\_toast%'
     and n.nspname not like 'pg\\_temp\\_%'
     and not exists (
       select 1 from pg_depend d
        where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
   order by 1, 2`;

/**
 * Lists the relations of the database at `url` that the dump has no entry for, and which of
 * them are tables with rows. Read-only; connects as the restore does.
 */
export async function relationsOutsideBackup(url: string, toc: DumpToc): Promise<OutsideBackup> {
  const key = (schema: string | null, name: string | null) => JSON.stringify([schema, name]);
  const held = new Set(
    toc.entries.filter((e) => RELATION_ENTRIES.has(e.desc)).map((e) => key(e.namespace, e.tag)),
  );
  const client = new pg.Client({
    connectionString: url,
    application_name: 'lifeboat restore check',
  });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ schema: string; name: string; kind: string }>(
      RELATIONS_SQL,
    );
    const tablesWithRows: string[] = [];
    const others: string[] = [];
    for (const { schema, name, kind } of rows) {
      if (held.has(key(schema, name))) continue;
      const label = `${schema}.${name}`;
      if (kind === 'r') {
        const relation = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`;
        const found = await client.query(`select 1 from only ${relation} limit 1`);
        if (found.rows.length > 0) {
          tablesWithRows.push(label);
          continue;
        }
      }
      others.push(`${KIND_NAMES[kind] ?? 'relation'} ${label}`);
    }
    return { tablesWithRows, others };
  } finally {
    await client.end().catch(() => {});
  }
}

const KIND_NAMES: Readonly<Record<string, string>> = {
  r: 'empty table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  S: 'sequence',
  f: 'foreign table',
};
