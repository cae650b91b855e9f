import { BackupError } from '../../core/errors.ts';
import { plural } from '../../core/format.ts';
import { TocParser, tableDataEntries } from '../../postgres/custom-dump-toc.ts';
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
 *
 * Tables are matched by their exact names in the TOC, read from the same bytes
 * (`TocParser`): `pg_restore --list` prints names unquoted with newlines as spaces, so a table
 * named `a⏎b` cannot be told from `a b` there. Only an archive version the parser does not know
 * falls back to matching the listing by name, and says so.
 */
export async function checkPostgresArchive(input: StructureCheckInput): Promise<StructureCheck> {
  const { component, context } = input;
  const entries: string[] = [];
  const parser = new TocParser();
  let tocDone = false;
  let tocError: string | null = null;
  async function* teed(): AsyncGenerator<Buffer> {
    for await (const chunk of input.raw) {
      if (!tocDone && tocError === null) {
        try {
          tocDone = parser.feed(chunk) !== undefined;
        } catch (error) {
          tocError = error instanceof Error ? error.message : String(error);
        }
      }
      yield chunk;
    }
  }
  const fed = await feedTool({
    input: teed(),
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
  const notChecked: string[] = [];
  let listed: (schema: string, table: string) => boolean;
  let tables: number;
  if (tocDone) {
    const exact = new Set(
      tableDataEntries(parser.toc()).map((e) => JSON.stringify([e.namespace, e.tag])),
    );
    listed = (schema, table) => exact.has(JSON.stringify([schema, table]));
    tables = exact.size;
  } else {
    // An entry reads `schema table owner`. Names may hold spaces: an entry that is not found by
    // dropping its last word is looked for by prefix.
    const exact = new Set(entries.map((entry) => entry.slice(0, entry.lastIndexOf(' '))));
    listed = (schema, table) =>
      exact.has(`${schema} ${table}`) ||
      entries.some((entry) => entry.startsWith(`${schema} ${table} `));
    tables = entries.length;
    notChecked.push(
      `table names matched in pg_restore --list, where a newline in a name reads as a space (${tocError ?? 'the table of contents could not be read'})`,
    );
  }
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
    checked: [`pg_restore --list: ${plural(tables, 'table')} listed`],
    notChecked,
    figures: { tables },
    rawBytes: fed.inputBytes,
  };
}
