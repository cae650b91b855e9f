import { execFile } from 'node:child_process';
import type { TableRowCount } from '../../../backup/manifest.ts';
import { childEnvironment } from '../../../core/child-env.ts';
import { RestoreError } from '../../../core/errors.ts';
import {
  type DumpToc,
  readDumpToc,
  tableDataEntries,
  UnreadableDumpError,
} from '../../../postgres/custom-dump-toc.ts';
import type { TableName } from './row-checks.ts';

/** A table whose data the dump holds, and its entry's dump id (in pg_restore's messages). */
export interface DumpedTable extends TableName {
  readonly dumpId: number;
}

/** What a restore needs to know of a staged dump before it runs pg_restore. */
export interface DumpContents {
  /** The archive's TOC; null when its version is one Lifeboat does not read. */
  readonly toc: DumpToc | null;
  readonly tables: readonly DumpedTable[];
  /** What could not be read exactly, for the restore's `notChecked`. */
  readonly notes: readonly string[];
}

/**
 * Reads which tables' data the staged dump holds, by its TOC (exact names). An archive version
 * Lifeboat does not read yet (a newer pg_dump) falls back to `pg_restore --list`, whose names
 * are printed unquoted with newlines as spaces: the manifest's tables are then matched by name
 * there, and the notes say so.
 *
 * @throws RestoreError when neither can read the dump
 */
export async function readDumpContents(
  file: string,
  pgRestore: string,
  manifest: readonly TableRowCount[],
): Promise<DumpContents> {
  try {
    const toc = await readDumpToc(file);
    const tables = tableDataEntries(toc).map((e) => ({
      schema: e.namespace ?? '',
      table: e.tag ?? '',
      dumpId: e.dumpId,
    }));
    return { toc, tables, notes: [] };
  } catch (error) {
    if (!(error instanceof UnreadableDumpError)) throw error;
    const listing = await listArchive(file, pgRestore);
    const tables = manifest.flatMap((t) => {
      const dumpId = listedTableData(listing, t);
      return dumpId === undefined ? [] : [{ schema: t.schema, table: t.table, dumpId }];
    });
    return {
      toc: null,
      tables,
      notes: [
        `the dump's table of contents was matched by name in pg_restore --list (${error.message}), where a newline in a name reads as a space`,
      ],
    };
  }
}

/**
 * The dump id of the table's `TABLE DATA` line in a `pg_restore --list` listing, or undefined.
 * Names are printed unquoted (`3352; 0 16524 TABLE DATA schema table owner`), so they are
 * matched from the front.
 */
export function listedTableData(listing: string, table: TableName): number | undefined {
  const name = `${table.schema} ${table.table}`;
  for (const line of listing.split('\n')) {
    const match = /^(\d+); \d+ \d+ TABLE DATA (.*)$/.exec(line);
    const rest = match?.[2];
    if (rest !== undefined && (rest === name || rest.startsWith(`${name} `))) {
      return Number(match?.[1]);
    }
  }
  return undefined;
}

/** `pg_restore --list`: reads the whole table of contents, so a damaged dump fails here. */
function listArchive(file: string, pgRestore: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      pgRestore,
      ['--list', file],
      { maxBuffer: 256 * 1024 * 1024, env: childEnvironment(process.env) },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new RestoreError(
              'pg_restore_list_failed',
              `pg_restore --list cannot read the dump: ${stderr.trim() || error.message}`,
              { cause: error },
            ),
          );
        } else resolve(stdout);
      },
    );
  });
}
