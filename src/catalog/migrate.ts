import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LifeboatError, UserFacingError } from '../core/errors.ts';
import type { Database, Queryable } from './database.ts';

/** A migration file: `0001_initial.sql` is named `0001_initial`. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
  /** sha256 of the file, hex: an applied migration must never change. */
  readonly checksum: string;
}

const MIGRATION_FILE = /^(\d{4}_[a-z0-9_]+)\.sql$/;

/**
 * Every process that migrates takes this transaction-level advisory lock first, so two processes
 * starting at once apply each migration once, one after the other.
 */
const MIGRATION_LOCK_KEY = '7305104287360172881';

/** Where the catalog's migrations live. */
export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('./migrations/', import.meta.url));

/** The migrations in `directory`, in the order they apply. */
export async function loadMigrations(directory = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const names = (await readdir(directory)).filter((file) => MIGRATION_FILE.test(file)).sort();
  return Promise.all(
    names.map(async (file) => {
      const sql = await readFile(`${directory}/${file}`, 'utf8');
      return {
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

/**
 * Applies the migrations not applied yet, each in its own transaction under the migration lock,
 * and records them in `schema_migrations`. Returns the names applied by this call. A migration
 * that was applied with different contents is an error: the catalog no longer matches the code.
 * A database that holds tables and is not a Lifeboat catalog (the catalog URL naming an
 * application's database by mistake) is refused before anything is created in it.
 */
export async function applyMigrations(
  db: Database,
  migrations: readonly Migration[],
): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      await assertLifeboatCatalog(tx);
      await ensureMigrationsTable(tx);
      const [recorded] = await tx.query<{ checksum: string }>(
        'SELECT checksum FROM schema_migrations WHERE name = $1',
        [migration.name],
      );
      if (recorded) {
        if (recorded.checksum !== migration.checksum) throw checksumMismatch(migration.name);
        return false;
      }
      await tx.query(migration.sql);
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  return applied;
}

/** Tables named one by one in the refusal before the rest are counted. */
const NAMED_TABLES = 5;

/**
 * Refuses (`catalog_not_lifeboat`) a database that is not a Lifeboat catalog and not empty:
 * one whose `schema_migrations` is another tool's (no `checksum` column), or one without it
 * that holds tables, views or sequences of its own. An empty database, or a catalog, passes.
 */
async function assertLifeboatCatalog(tx: Queryable): Promise<void> {
  const [state] = await tx.query<{ database: string; ours: boolean | null }>(
    `SELECT current_database() AS database,
            (SELECT EXISTS (SELECT 1 FROM information_schema.columns
                             WHERE table_schema = t.table_schema AND table_name = t.table_name
                               AND column_name = 'checksum')
               FROM information_schema.tables t
              WHERE t.table_name = 'schema_migrations'
                AND t.table_schema = ANY (current_schemas(false))
              ORDER BY array_position(current_schemas(false), t.table_schema::name)
              LIMIT 1) AS ours`,
  );
  if (!state || state.ours === true) return;
  const found = await tx.query<{ name: string; kind: string }>(
    `SELECT n.nspname || '.' || c.relname AS name,
            CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                           WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'
                           ELSE 'table' END AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                           AND d.deptype = 'e')
      ORDER BY (c.relkind IN ('r', 'p')) DESC, 1`,
  );
  if (state.ours === null && found.length === 0) return;
  const tables = found.filter((f) => f.kind === 'table');
  const listed = (tables.length > 0 ? tables : found).map((f) => f.name);
  const shown = listed.slice(0, NAMED_TABLES).join(', ');
  const more = listed.length > NAMED_TABLES ? `, and ${listed.length - NAMED_TABLES} more` : '';
  const what =
    tables.length > 0
      ? `${tables.length} ${tables.length === 1 ? 'table' : 'tables'} (${shown}${more})`
      : `${found.length} relations (${shown}${more})`;
  const why =
    state.ours === false
      ? `its schema_migrations table is another tool's (it has no checksum column), and it holds ${what}`
      : `it holds ${what} and no Lifeboat schema_migrations`;
  throw new CatalogRefusedError(
    'catalog_not_lifeboat',
    `The catalog database "${state.database}" is not a Lifeboat catalog: ${why}. Nothing was created in it. ` +
      'Is DATABASE_URL (or the catalog URL) pointing at an application database by mistake? ' +
      'Point it at an empty database, or at a name that does not exist yet (Lifeboat creates it).',
  );
}

/** The catalog URL names a database Lifeboat must not install its schema into. */
export class CatalogRefusedError extends UserFacingError {}

async function ensureMigrationsTable(tx: Queryable): Promise<void> {
  await tx.query(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      name        text PRIMARY KEY,
      checksum    text NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`);
}

function checksumMismatch(name: string): LifeboatError {
  return new LifeboatError(
    'catalog_migration_changed',
    `catalog migration ${name} was applied with different contents than the file has now; ` +
      'applied migrations must never be edited — add a new migration instead',
  );
}
