import type pg from 'pg';
import type { TableRowCount } from '../../../backup/manifest.ts';
import type { ValidationCheck } from '../../component-restorer.ts';

/** A table by its schema and name, exactly as the catalog holds them. */
export interface TableName {
  readonly schema: string;
  readonly table: string;
}

/** Which of the manifest's tables a restore can count, and why the others are not counted. */
export interface RowCheckPlan {
  /** Tables of the manifest whose data the dump holds. */
  readonly counted: readonly TableRowCount[];
  /** One line per table left out, saying why. */
  readonly notChecked: readonly string[];
}

/**
 * Matches the manifest's tables with the tables whose data the dump holds, by exact schema and
 * name (never by a printed listing, where a newline in a name reads as a space). A table of the
 * manifest the dump holds no data for, or a table of the dump the manifest does not count, is
 * named in `notChecked`, so no table goes unchecked without saying so.
 */
export function planRowChecks(
  manifest: readonly TableRowCount[],
  dumped: readonly TableName[],
): RowCheckPlan {
  const key = (t: TableName) => JSON.stringify([t.schema, t.table]);
  const inDump = new Set(dumped.map(key));
  const inManifest = new Set(manifest.map(key));
  const counted = manifest.filter((t) => inDump.has(key(t)));
  const notChecked = [
    ...manifest
      .filter((t) => !inDump.has(key(t)))
      .map(
        (t) =>
          `${t.schema}.${t.table}: the dump holds no data for it, though the manifest counted ${t.rows} rows`,
      ),
    ...dumped
      .filter((t) => !inManifest.has(key(t)))
      .map((t) => `${t.schema}.${t.table}: restored, but the manifest has no row count to compare`),
  ];
  return { counted, notChecked };
}

/**
 * Counts each table's own rows (`FROM ONLY`: pg_dump's COPY of an inheritance parent holds its
 * own rows, not its children's) and compares them with the manifest.
 */
export async function countRows(
  client: pg.Client,
  tables: readonly TableRowCount[],
  signal: AbortSignal,
): Promise<ValidationCheck[]> {
  const checks: ValidationCheck[] = [];
  for (const t of tables) {
    signal.throwIfAborted();
    const relation = `${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.table)}`;
    const { rows } = await client.query<{ rows: string }>(
      `select count(*) as rows from only ${relation}`,
    );
    const actual = Number(rows[0]?.rows ?? 0);
    checks.push({
      name: `${t.schema}.${t.table} rows`,
      expected: t.rows,
      actual,
      ok: actual === t.rows,
    });
  }
  return checks;
}
