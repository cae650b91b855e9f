import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LifeboatError } from '../core/errors.ts';
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
 */
export async function applyMigrations(
  db: Database,
  migrations: readonly Migration[],
): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
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
