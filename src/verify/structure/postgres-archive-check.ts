import { BackupError } from '../../core/errors.ts';
import { plural } from '../../core/format.ts';
import { feedTool } from '../feed-tool.ts';
import { describeExit, type StructureCheck, type StructureCheckInput } from './structure-check.ts';

/** `3358; 0 16394 TABLE DATA public pgbench_accounts root` → `public pgbench_accounts root`. */
const TABLE_DATA_LINE = /^\d+; \d+ \d+ TABLE DATA (.+)$/;

/** Tables named one by one in a message before the rest are counted. */
const NAMED_TABLES = 5;

/**
 * A postgres component: `pg_restore --list` reads the archive's table of contents from the raw
 * stream (it reads a custom-format archive from stdin), and every table whose rows the manifest
 * counted must have its `TABLE DATA` entry. The rest of the stream is still read to the end.
 */
export async function checkPostgresArchive(input: StructureCheckInput): Promise<StructureCheck> {
  const { component, context } = input;
  const entries: string[] = [];
  const fed = await feedTool({
    input: input.raw,
    command: 'pg_restore',
    args: ['--list'],
    onLine: (line) => {
      const match = TABLE_DATA_LINE.exec(line);
      if (match?.[1]) entries.push(match[1]);
    },
    ...(input.onBytes ? { onBytes: input.onBytes } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  if (fed.code !== 0) {
    throw new BackupError(
      'pg_restore_failed',
      `${context}: pg_restore --list ${describeExit(fed)}: ${fed.stderr.join(' ') || 'no output on stderr'}`,
    );
  }
  const source = component.source;
  const expected = source.kind === 'postgres' ? source.tables : [];
  // An entry reads `schema table owner`. Names may hold spaces: an entry that is not found by
  // dropping its last word is looked for by prefix.
  const exact = new Set(entries.map((entry) => entry.slice(0, entry.lastIndexOf(' '))));
  const listed = (schema: string, table: string) =>
    exact.has(`${schema} ${table}`) ||
    entries.some((entry) => entry.startsWith(`${schema} ${table} `));
  const missing = expected.filter((t) => !listed(t.schema, t.table));
  if (missing.length > 0) {
    const named = missing.slice(0, NAMED_TABLES).map((t) => `${t.schema}.${t.table}`);
    const more = missing.length > NAMED_TABLES ? ` and ${missing.length - NAMED_TABLES} more` : '';
    throw new BackupError(
      'archive_tables_missing',
      `${context}: the archive has no table data for ${plural(missing.length, 'table')} the manifest counted rows of: ${named.join(', ')}${more}`,
    );
  }
  return {
    checked: [`pg_restore --list: ${plural(entries.length, 'table')} listed`],
    notChecked: [],
    figures: { tables: entries.length },
    rawBytes: fed.inputBytes,
  };
}
