import { availableParallelism } from 'node:os';
import pg from 'pg';
import type { ManifestComponent, TableRowCount } from '../../backup/manifest.ts';
import { toolVersionLine } from '../../backup/sources/child-process-output.ts';
import {
  compareMajorVersions,
  parsePostgresVersion,
} from '../../backup/sources/postgres-version.ts';
import { LifeboatError, messageOf, RestoreError } from '../../core/errors.ts';
import { withDefaultUser } from '../../postgres/connection-url.ts';
import { databaseDefinition } from '../../postgres/database-definition.ts';
import type {
  ComponentRestorer,
  RestoreDestination,
  RestoreInput,
  RestoreResult,
  ValidationCheck,
} from '../component-restorer.ts';
import { NO_UNDO_RECORDER } from '../undo-journal.ts';
import { type Destination, parseDestination } from './postgres/destination.ts';
import { type DumpContents, readDumpContents } from './postgres/dump-contents.ts';
import { relationsOutsideBackup } from './postgres/outside-backup.ts';
import { runPgRestore } from './postgres/pg-restore-process.ts';
import { newRestoreToken, replacedName, restoringName } from './postgres/replacement-names.ts';
import { RestoreServer, serverIdentity } from './postgres/restore-server.ts';
import { countRows, planRowChecks } from './postgres/row-checks.ts';
import { TableDataProgress } from './postgres/table-data-progress.ts';

export interface PostgresRestorerOptions {
  /** The pg_restore binary. @defaultValue `pg_restore` from the PATH */
  readonly pgRestore?: string;
  /** Parallel pg_restore jobs. @defaultValue min(4, the CPUs available) */
  readonly jobs?: number;
  /**
   * The catalog's URL: a restore refuses to replace the catalog's own database (it would end
   * the sessions holding every job's locks). @defaultValue none, nothing refused
   */
  readonly catalogUrl?: string;
}

/** Names of relations listed one by one in a message before the rest are counted. */
const NAMED = 8;

/**
 * Restores a PostgreSQL component so that the destination is, at every moment, either exactly
 * as it was or exactly the backup — restored and validated — whatever its environment:
 *
 * 1. `pg_restore -j N` into a new database `lifeboat_restore_<token>_<destination>` on the
 *    destination's server, created with the dump's encoding and locale;
 * 2. every table whose data the dump holds is counted (`FROM ONLY`) and compared with the
 *    manifest; a mismatch or any failure drops that database, and the destination is
 *    unchanged;
 * 3. the dump's database settings and comment (`ALTER DATABASE … SET`, `COMMENT ON
 *    DATABASE`, which `pg_restore` replays only with `--create`) are applied to it, and the
 *    destination's owner and access grants carried over;
 * 4. one transaction renames the destination aside and the restored database into its place,
 *    after ending the destination's sessions; the old database is then dropped.
 *
 * Why not `pg_restore --clean --single-transaction` into the destination: it is atomic too,
 * but runs one statement at a time (`-j` is refused with it, and restore speed matters: RTO),
 * holds exclusive locks on every restored table for the whole restore, still fails on an
 * object outside the backup that depends on one inside it (a view), and validates only after
 * its COMMIT, when a failed check can no longer leave the destination as it was. The swap
 * keeps `-j`, keeps the destination serving until the swap, validates before it, and costs
 * room for a second copy while it runs plus the CREATEDB privilege and ownership of the
 * destination (refused up front, naming them).
 *
 * The destination becomes the backup: objects it holds that the backup does not (a view, an
 * empty table) go with the database it replaced and are named in the notes. Tables with rows
 * that the backup does not hold are refused before anything is done, so no data the backup
 * never had is lost. Databases left by a restore that died (a killed worker) are dropped
 * before the next restore to the server and when a worker starts (`sweepRestoreLeftovers`).
 *
 * `--no-owner --no-acl`: the objects belong to the user of the destination URL and the
 * backup's grants are not replayed (staging and scratch servers rarely have production's
 * roles). The rare restore that needs both can run the `pg_restore` of docs/hand-restore.md.
 */
export class PostgresRestorer implements ComponentRestorer {
  readonly kind = 'postgres';
  private readonly pgRestore: string;
  private readonly jobs: number;
  private readonly catalogUrl: string | undefined;
  private catalog: Promise<{ server: string; database: string } | null> | undefined;

  constructor(options: PostgresRestorerOptions = {}) {
    this.pgRestore = options.pgRestore ?? 'pg_restore';
    this.jobs = Math.max(1, options.jobs ?? Math.min(4, availableParallelism()));
    this.catalogUrl = options.catalogUrl;
  }

  describe(component: ManifestComponent, destination: RestoreDestination): string[] {
    const target = parseDestination(destination);
    const tables = component.source.kind === 'postgres' ? component.source.tables.length : 0;
    const db = `"${target.database}"`;
    return [
      `pg_restore -j ${this.jobs} into a new database beside ${db} on ${target.server}, then count the rows of ${tables === 1 ? '1 table' : `${tables} tables`} and compare with the backup`,
      `only when every count matches: end the sessions of ${db} and swap the restored database in for it in one transaction, then drop the old one; a restore that fails leaves ${db} exactly as it was`,
      `${db} becomes the backup: its database settings and comment come from the backup, its owner and access grants stay; objects the backup does not hold go with the old database (tables with rows the backup does not hold are refused)`,
      `objects owned by ${target.user}; the backup's owners and grants are not restored (--no-owner --no-acl); needs ${target.user} to have CREATEDB and to own ${db}`,
    ];
  }

  /**
   * Refuses before anything is staged what a restore would refuse later: a pg_restore that
   * cannot read the dump, a destination the URL's role cannot replace, the catalog's database.
   */
  async preflight(component: ManifestComponent, destination: RestoreDestination): Promise<void> {
    const target = parseDestination(destination);
    assertPgRestoreCanRead(
      await toolVersionLine('pg_restore', this.pgRestore),
      component.tools.pg_dump,
    );
    const server = await RestoreServer.open(target, null);
    try {
      await this.refuseCatalog(server, target);
      await server.inspect();
    } finally {
      await server.close();
    }
  }

  async restore(input: RestoreInput): Promise<RestoreResult> {
    const target = parseDestination(input.destination);
    try {
      return await this.restoreInto(input, target);
    } catch (error) {
      // Only a swap interrupted half way can leave the destination other than as it was, and
      // it says so; every other failure happened before the destination was touched.
      throw failure(error, target, null, undefined);
    }
  }

  private async restoreInto(input: RestoreInput, target: Destination): Promise<RestoreResult> {
    const { component, signal } = input;
    signal.throwIfAborted();
    const printed = await toolVersionLine('pg_restore', this.pgRestore);
    const tools = { pg_restore: parsePostgresVersion(printed)?.text ?? printed };
    assertPgRestoreCanRead(printed, component.tools.pg_dump);

    input.onProgress?.('reading the dump’s table of contents');
    const tables = component.source.kind === 'postgres' ? component.source.tables : [];
    const contents = await readDumpContents(input.stagedFile, this.pgRestore, tables);
    const token = newRestoreToken();
    const server = await RestoreServer.open(target, token);
    try {
      return await this.restoreBeside(input, {
        target,
        server,
        token,
        contents,
        notes: [...contents.notes],
        tools,
      });
    } finally {
      await server.close();
    }
  }

  /** The restore proper, on the server's session: see the class comment for the steps. */
  private async restoreBeside(
    input: RestoreInput,
    run: {
      readonly target: Destination;
      readonly server: RestoreServer;
      readonly token: string;
      readonly contents: DumpContents;
      readonly notes: string[];
      readonly tools: Record<string, string>;
    },
  ): Promise<RestoreResult> {
    const { target, server, token, contents, notes, tools } = run;
    const { signal } = input;
    const tables = input.component.source.kind === 'postgres' ? input.component.source.tables : [];
    const plan = planRowChecks(tables, contents.tables);
    const definition = contents.toc ? databaseDefinition(contents.toc) : null;

    const swept = await server.sweep();
    if (swept.length > 0) {
      notes.push(`dropped ${swept.join(', ')}: left on the server by restores that did not finish`);
    }
    await this.refuseCatalog(server, target);
    const facts = await server.inspect();
    if (facts.exists) notes.push(...(await this.refuseDataLoss(target, contents.toc)));

    const restoring = restoringName(token, target.database);
    const replaced = replacedName(token, target.database);
    // Before the side database exists: a sweep drops it, or sees the swap happened, by these.
    await (input.undo ?? NO_UNDO_RECORDER).started({
      kind: 'postgres',
      token,
      database: target.database,
      oidBefore: facts.exists ? await server.oid(target.database) : null,
    });
    const created = await server.create(
      restoring,
      definition?.createOptions ?? '',
      facts.exists ? facts.owner : null,
    );
    if (created) notes.push(created);
    let checks: ValidationCheck[];
    try {
      input.onProgress?.(
        `restoring into ${restoring}; ${target.database} is not touched unless every check passes`,
      );
      await runPgRestore({
        pgRestore: this.pgRestore,
        jobs: this.jobs,
        file: input.stagedFile,
        ...target.on(restoring),
        password: target.password,
        database: restoring,
        progress: new TableDataProgress(
          contents.tables.map((t) => t.dumpId),
          this.jobs > 1,
        ),
        ...(input.onProgress ? { onProgress: input.onProgress } : {}),
        signal,
        redact: target.redact,
      });
      input.onProgress?.(`counting rows in ${plan.counted.length} tables`);
      checks = await checkRows(target, restoring, plan.counted, signal);
      if (checks.every((c) => c.ok)) {
        if (definition) {
          notes.push(...(await server.applyDefinition(restoring, definition.statements)));
          notes.push(...definition.skipped.map((sql) => `not restored: ${sql}`));
        } else if (contents.toc) {
          notes.push(
            'the dump holds no database settings or comment (pg_dump -n or -t leaves the database out)',
          );
        }
        if (facts.exists) notes.push(...(await server.copyAccess(target.database, restoring)));
        signal.throwIfAborted();
        input.onProgress?.(
          `every check matches; swapping the restored database in for ${target.database}`,
        );
        await this.swap(server, target, restoring, replaced, facts.exists);
      }
    } catch (error) {
      const dropError = await server.drop(restoring);
      throw failure(error, target, restoring, dropError);
    }
    if (!checks.every((c) => c.ok)) {
      const dropError = await server.drop(restoring);
      if (dropError) notes.push(leftBehind(restoring, target, dropError));
      return {
        tools,
        checks,
        notChecked: plan.notChecked,
        notes,
        ok: false,
        destinationState: 'unchanged',
      };
    }
    if (facts.exists) {
      const dropError = await server.drop(replaced);
      if (dropError) notes.push(leftBehind(replaced, target, dropError));
    }
    return {
      tools,
      checks,
      notChecked: plan.notChecked,
      notes,
      ok: true,
      destinationState: 'restored',
    };
  }

  /**
   * Swaps the restored database in. When the connection broke during the swap, a new session
   * finds out whether it happened: the restored database still under its own name means it
   * did not (the destination is unchanged); gone, with the destination there, means it did.
   */
  private async swap(
    server: RestoreServer,
    target: Destination,
    restoring: string,
    replaced: string,
    exists: boolean,
  ): Promise<void> {
    try {
      await server.swap(restoring, replaced, exists);
    } catch (error) {
      if (!(error instanceof RestoreError) || error.destination !== 'unknown') throw error;
      const check = await RestoreServer.open(target, null).catch(() => null);
      if (check === null) throw error;
      try {
        if (await check.exists(restoring)) {
          throw new RestoreError(error.code, `${error.message}; the swap did not happen`, {
            cause: error,
            destination: 'unchanged',
          });
        }
        if (!(await check.exists(target.database))) throw error;
      } finally {
        await check.close();
      }
    }
  }

  /**
   * Refuses a destination that holds tables with rows the backup does not: replacing the
   * database would lose them. Returns notes naming what else goes with the old database.
   */
  private async refuseDataLoss(
    target: Destination,
    toc: Parameters<typeof relationsOutsideBackup>[1] | null,
  ): Promise<string[]> {
    if (toc === null) {
      return [
        `${target.database} was not compared with the backup before it was replaced: objects it held that the backup does not are gone`,
      ];
    }
    const outside = await relationsOutsideBackup(target.url, toc);
    if (outside.tablesWithRows.length > 0) {
      throw new RestoreError(
        'restore_would_drop_data',
        `${target.database} holds ${outside.tablesWithRows.length === 1 ? 'a table' : `${outside.tablesWithRows.length} tables`} with rows that the backup does not: ${named(outside.tablesWithRows)}. A restore replaces the whole database, so they would be lost: drop or move them first, or restore into another target with --into`,
        { destination: 'unchanged' },
      );
    }
    return outside.others.length > 0
      ? [`not in the backup, so gone with the database it replaced: ${named(outside.others)}`]
      : [];
  }

  /** Refuses the catalog's own database: its sessions hold every job's locks. */
  private async refuseCatalog(server: RestoreServer, target: Destination): Promise<void> {
    if (this.catalogUrl === undefined) return;
    this.catalog ??= catalogIdentity(this.catalogUrl);
    const catalog = await this.catalog;
    if (catalog === null || catalog.database !== target.database) return;
    if ((await server.identity()) !== catalog.server) return;
    throw new RestoreError(
      'restore_into_catalog',
      `${target.database} on ${target.server} is Lifeboat's catalog database; a restore never replaces it (it would end the sessions that hold every job's locks). Restore into another database with --into`,
      { destination: 'unchanged' },
    );
  }
}

/**
 * Fails with `pg_restore_too_old` when the dump comes from a newer pg_dump than this
 * pg_restore: pg_restore cannot read archives from a newer major version.
 */
export function assertPgRestoreCanRead(pgRestorePrinted: string, pgDump: string | undefined): void {
  const pgRestore = parsePostgresVersion(pgRestorePrinted);
  const dumpedWith = pgDump === undefined ? undefined : parsePostgresVersion(pgDump);
  if (!pgRestore || !dumpedWith) return;
  if (compareMajorVersions(pgRestore, dumpedWith) < 0) {
    throw new RestoreError(
      'pg_restore_too_old',
      `pg_restore ${pgRestore.text} is older than the pg_dump ${dumpedWith.text} that made this backup and cannot read it; ` +
        `install the PostgreSQL ${dumpedWith.major} client tools (or newer) on the worker`,
    );
  }
}

/** The catalog's server and database; null when it cannot be reached (nothing to protect). */
async function catalogIdentity(url: string): Promise<{ server: string; database: string } | null> {
  const client = new pg.Client({
    connectionString: withDefaultUser(url),
    application_name: 'lifeboat restore check',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ database: string }>(
      'select current_database() as database',
    );
    return { server: await serverIdentity(client), database: rows[0]?.database ?? '' };
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkRows(
  target: Destination,
  database: string,
  tables: readonly TableRowCount[],
  signal: AbortSignal,
): Promise<ValidationCheck[]> {
  const client = new pg.Client({
    connectionString: target.on(database).url,
    application_name: 'lifeboat restore check',
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await countRows(client, tables, signal);
  } catch (error) {
    if (error instanceof LifeboatError || signal.aborted) throw error;
    throw new RestoreError(
      'restore_check_failed',
      `counting the restored rows in ${database} failed: ${target.redact(messageOf(error))}`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The error of a restore that failed before its swap committed: the destination is unchanged,
 * and the database it was restoring into is gone (or named, if it could not be dropped).
 */
function failure(
  error: unknown,
  target: Destination,
  restoring: string | null,
  dropError: unknown,
): RestoreError {
  if (error instanceof RestoreError && error.destination && !dropError) return error;
  const code =
    error instanceof LifeboatError
      ? error.code
      : error instanceof Error && error.name === 'AbortError'
        ? 'restore_aborted'
        : 'postgres_restore_failed';
  const left =
    restoring !== null && dropError ? `; ${leftBehind(restoring, target, dropError)}` : '';
  const destination =
    error instanceof RestoreError && error.destination ? error.destination : 'unchanged';
  return new RestoreError(code, `${target.redact(messageOf(error))}${left}`, {
    cause: error,
    destination,
  });
}

function leftBehind(name: string, target: Destination, error: unknown): string {
  return `${name} could not be dropped (${target.redact(messageOf(error))}); the next restore to ${target.server} drops it`;
}

function named(items: readonly string[]): string {
  const more = items.length > NAMED ? `, and ${items.length - NAMED} more` : '';
  return `${items.slice(0, NAMED).join(', ')}${more}`;
}
