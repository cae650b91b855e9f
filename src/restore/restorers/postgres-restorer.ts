import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import pg from 'pg';
import type { ManifestComponent, TableRowCount } from '../../backup/manifest.ts';
import { childExit, toolVersionLine } from '../../backup/sources/child-process-output.ts';
import {
  compareMajorVersions,
  parsePostgresVersion,
} from '../../backup/sources/postgres-version.ts';
import { LifeboatError, RestoreError } from '../../core/errors.ts';
import {
  redactPasswords,
  splitPassword,
  urlForDatabase,
  withDefaultUser,
} from '../../postgres/connection-url.ts';
import type {
  ComponentRestorer,
  RestoreDestination,
  RestoreInput,
  RestoreResult,
  ValidationCheck,
} from '../component-restorer.ts';
import { readDumpContents } from './postgres/dump-contents.ts';
import { countRows, planRowChecks } from './postgres/row-checks.ts';
import { TableDataProgress } from './postgres/table-data-progress.ts';

export interface PostgresRestorerOptions {
  /** The pg_restore binary. @defaultValue `pg_restore` from the PATH */
  readonly pgRestore?: string;
  /** Parallel pg_restore jobs. @defaultValue min(4, the CPUs available) */
  readonly jobs?: number;
}

/** The database libpq connects to for CREATE DATABASE, as `createdb` does. */
const MAINTENANCE_DATABASE = 'postgres';

/**
 * Restores a PostgreSQL component: the staged custom-format dump goes through `pg_restore -j N`
 * (parallel: the staged file is seekable) into the destination URL's database, which is created
 * from template0 when it does not exist. Into an existing database the restore runs with
 * `--clean --if-exists`: every object the backup holds is dropped and recreated, and objects the
 * backup does not hold are left as they are.
 *
 * `--no-owner --no-acl`: the objects belong to the user of the destination URL and the backup's
 * grants are not replayed. A restore often goes into another environment (staging, a scratch
 * server) whose roles differ from the origin's, where `ALTER … OWNER TO` and `GRANT` to a
 * missing role would fail the whole restore. The rare restore that needs both can run the
 * README's hand-restore `pg_restore` without the two flags.
 *
 * `--exit-on-error`: a restore that skipped a statement is not a restore to trust, so the first
 * error stops it and is reported. Afterwards every table whose data the dump holds is counted
 * with `count(*)` of the table alone (`FROM ONLY`: pg_dump's COPY of an inheritance parent holds
 * its own rows, not its children's) and compared with the row count recorded at backup time.
 */
export class PostgresRestorer implements ComponentRestorer {
  readonly kind = 'postgres';
  private readonly pgRestore: string;
  private readonly jobs: number;

  constructor(options: PostgresRestorerOptions = {}) {
    this.pgRestore = options.pgRestore ?? 'pg_restore';
    this.jobs = Math.max(1, options.jobs ?? Math.min(4, availableParallelism()));
  }

  describe(component: ManifestComponent, destination: RestoreDestination): string[] {
    const target = parseDestination(destination);
    const tables = component.source.kind === 'postgres' ? component.source.tables.length : 0;
    return [
      `pg_restore -j ${this.jobs} into database "${target.database}" on ${target.server}`,
      `if "${target.database}" does not exist: create it; if it exists: drop and recreate every object the backup holds (--clean --if-exists), leave other objects as they are`,
      `objects owned by ${target.user}; the backup's owners and grants are not restored (--no-owner --no-acl)`,
      `then count the rows of ${tables === 1 ? '1 table' : `${tables} tables`} and compare with the backup`,
    ];
  }

  async restore(input: RestoreInput): Promise<RestoreResult> {
    const { component, signal } = input;
    const target = parseDestination(input.destination);
    const redact = (text: string) => redactPasswords(text, target.password);
    signal.throwIfAborted();

    const printed = await toolVersionLine('pg_restore', this.pgRestore);
    const pgRestoreVersion = parsePostgresVersion(printed);
    assertPgRestoreCanRead(printed, component.tools.pg_dump);

    input.onProgress?.('reading the dump’s table of contents');
    const tables = component.source.kind === 'postgres' ? component.source.tables : [];
    const contents = await readDumpContents(input.stagedFile, this.pgRestore, tables);
    const plan = planRowChecks(tables, contents.tables);
    const progress = new TableDataProgress(
      contents.tables.map((t) => t.dumpId),
      this.jobs > 1,
    );

    const existed = await ensureDatabase(target, redact);
    input.onProgress?.(
      existed
        ? `restoring into the existing database ${target.database} (--clean --if-exists)`
        : `created database ${target.database}; restoring`,
    );
    await this.run(input, target, existed, progress, redact);

    input.onProgress?.(`counting rows in ${plan.counted.length} tables`);
    const checks = await checkRows(target, plan.counted, signal, redact);
    return {
      tools: { pg_restore: pgRestoreVersion?.text ?? printed },
      checks,
      notChecked: [...contents.notes, ...plan.notChecked],
      ok: checks.every((c) => c.ok),
    };
  }

  private async run(
    input: RestoreInput,
    target: Destination,
    existed: boolean,
    progress: TableDataProgress,
    redact: (text: string) => string,
  ): Promise<void> {
    const { signal } = input;
    signal.throwIfAborted();
    const child = spawn(
      this.pgRestore,
      [
        `--dbname=${target.safeUrl}`,
        `--jobs=${this.jobs}`,
        '--no-owner',
        '--no-acl',
        '--exit-on-error',
        '--no-password',
        '--verbose',
        ...(existed ? ['--clean', '--if-exists'] : []),
        input.stagedFile,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          ...(target.password === null ? {} : { PGPASSWORD: target.password }),
          LC_MESSAGES: 'C',
        },
      },
    );
    const errors: string[] = [];
    let tail: string[] = [];
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (/\berror:|\bdetail:|\bcommand was:/i.test(line)) errors.push(line);
        tail = [...tail.slice(-7), line];
        if (progress.line(line)) {
          input.onProgress?.(`restored the data of ${progress.done} of ${progress.total} tables`);
        }
      }
    });
    const stop = () => child.kill('SIGTERM');
    signal.addEventListener('abort', stop, { once: true });
    try {
      const exit = await childExit(child, 'pg_restore');
      signal.throwIfAborted();
      if (exit.code !== 0) {
        const why = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
        const detail = (errors.length > 0 ? errors.slice(0, 6) : tail).join('\n');
        throw new RestoreError(
          'pg_restore_failed',
          `pg_restore into ${target.database} ${why}: ${redact(detail) || 'no output on stderr'}`,
        );
      }
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }
}

interface Destination {
  /** The URL with the OS user filled in, password included: for node-postgres only. */
  readonly url: string;
  /** The URL without its password: for pg_restore's argv and for messages. */
  readonly safeUrl: string;
  readonly password: string | null;
  readonly database: string;
  readonly user: string;
  /** `host:port`. */
  readonly server: string;
}

function parseDestination(destination: RestoreDestination): Destination {
  if (destination.config.kind !== 'postgres') {
    throw new RestoreError(
      'restore_kind_mismatch',
      `${destination.name} is a ${destination.config.kind} target; a postgres backup restores only into a postgres target`,
    );
  }
  const url = withDefaultUser(destination.config.url);
  const { url: safeUrl, password } = splitPassword(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new RestoreError(
      'restore_destination_invalid',
      `the url of ${destination.name} is not a postgres:// URL: ${redactPasswords(url, password)}`,
      { cause: error },
    );
  }
  const user =
    decodeURIComponent(parsed.username) ||
    parsed.searchParams.get('user') ||
    process.env.PGUSER ||
    process.env.USER ||
    'postgres';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user;
  return {
    url,
    safeUrl,
    password,
    database,
    user,
    server: `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`,
  };
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

/** Creates the database when it does not exist; true when it existed. */
async function ensureDatabase(
  target: Destination,
  redact: (text: string) => string,
): Promise<boolean> {
  const probe = new pg.Client({
    connectionString: target.url,
    application_name: 'lifeboat restore',
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') {
      throw unreachable(target, error, redact);
    }
  } finally {
    await probe.end().catch(() => {});
  }

  const admin = new pg.Client({
    connectionString: urlForDatabase(target.url, MAINTENANCE_DATABASE),
    application_name: 'lifeboat restore',
  });
  admin.on('error', () => {});
  try {
    await admin.connect();
    // template0: template1 may hold extensions or objects that would clash with the dump's.
    await admin.query(
      `CREATE DATABASE ${admin.escapeIdentifier(target.database)} TEMPLATE template0`,
    );
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === '42P04') return true;
    throw new RestoreError(
      'restore_create_database_failed',
      `cannot create database ${target.database} on ${target.server}: ${redact(messageOf(error))}`,
      { cause: error },
    );
  } finally {
    await admin.end().catch(() => {});
  }
}

async function checkRows(
  target: Destination,
  tables: readonly TableRowCount[],
  signal: AbortSignal,
  redact: (text: string) => string,
): Promise<ValidationCheck[]> {
  const client = new pg.Client({
    connectionString: target.url,
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
      `counting the restored rows in ${target.database} failed: ${redact(messageOf(error))}`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => {});
  }
}

function unreachable(
  target: Destination,
  error: unknown,
  redact: (text: string) => string,
): RestoreError {
  return new RestoreError(
    'postgres_unreachable',
    `cannot connect to ${redact(target.safeUrl)}: ${redact(messageOf(error))}`,
    { cause: error },
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
