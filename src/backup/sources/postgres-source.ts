import { spawn } from 'node:child_process';
import { pipeline, finished as streamFinished } from 'node:stream';
import pg from 'pg';
import type { PostgresTargetConfig } from '../../config/schema.ts';
import { pgToolEnvironment } from '../../core/child-env.ts';
import { BackupError, LifeboatError } from '../../core/errors.ts';
import { redactPasswords, splitPassword, withDefaultUser } from '../../postgres/connection-url.ts';
import { CustomDumpRowCounter } from '../../postgres/custom-dump-row-counter.ts';
import type { TableRowCount } from '../manifest.ts';
import type { BackupSource, OpenedSource, SourceResult } from './backup-source.ts';
import {
  type ChildExit,
  cancelledError,
  childExit,
  StderrTail,
  toolStream,
  toolVersionLine,
} from './child-process-output.ts';
import { assertPgDumpCanDump, parsePostgresVersion } from './postgres-version.ts';
import { pgDumpNotices } from './tool-notices.ts';

export interface PostgresSourceOptions {
  /** The pg_dump binary. @defaultValue `pg_dump` from the PATH */
  readonly pgDump?: string;
}

/**
 * User tables whose data pg_dump dumps: ordinary tables and the leaf partitions of partitioned
 * ones (a partitioned parent holds no rows of its own), outside the system schemas, and not
 * owned by an extension (pg_dump leaves those to `CREATE EXTENSION`).
 */
const USER_TABLES_SQL = `
  select n.nspname as schema, c.relname as table, pg_table_size(c.oid)::float8 as bytes
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r'
    and c.relpersistence <> 't'
    and n.nspname not in ('pg_catalog', 'information_schema')
    and n.nspname not like 'pg\\_toast%'
    and n.nspname not like 'pg\\_temp\\_%'
    and not exists (
      select 1 from pg_depend d
      where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
    )
  order by n.nspname, c.relname`;

/**
 * A PostgreSQL database as a custom-format `pg_dump`, taken inside a snapshot exported from a
 * REPEATABLE READ transaction. The rows of each table are counted in the dump stream itself
 * (`CustomDumpRowCounter`), so the manifest lists exactly the tables whose data the dump holds
 * with exactly their rows; should the counter not understand the archive, the transaction counts
 * every table with `count(*) FROM ONLY` (each table's own rows, as its COPY holds them) after
 * pg_dump is done, still in the dump's snapshot.
 */
export class PostgresSource implements BackupSource {
  readonly kind = 'postgres';
  readonly objectSuffix = 'dump';
  private readonly name: string;
  private readonly config: PostgresTargetConfig;
  private readonly pgDump: string;

  constructor(name: string, config: PostgresTargetConfig, options: PostgresSourceOptions = {}) {
    this.name = name;
    this.config = config;
    this.pgDump = options.pgDump ?? 'pg_dump';
  }

  async open(signal: AbortSignal): Promise<OpenedSource> {
    const { url: safeUrl, password } = splitPassword(this.config.url);
    const redact = (text: string) => redactPasswords(text, password);
    const client = new pg.Client({
      connectionString: withDefaultUser(this.config.url),
      application_name: `lifeboat backup ${this.name}`,
    });
    // A connection lost mid-backup surfaces through the pending query; this keeps it from
    // also crashing the process as an unhandled 'error' event.
    client.on('error', () => {});
    let ended = false;
    const endClient = async () => {
      if (ended) return;
      ended = true;
      await client.end().catch(() => {});
    };

    let child: ReturnType<typeof spawn> | undefined;
    try {
      signal.throwIfAborted();
      try {
        await client.connect();
      } catch (error) {
        throw new BackupError(
          'postgres_unreachable',
          `cannot connect to ${safeUrl}: ${redact(messageOf(error))}`,
          { cause: error },
        );
      }
      const info = await client.query<{ server_version: string; database: string }>(
        'select current_setting($1) as server_version, current_database() as database',
        ['server_version'],
      );
      const serverPrinted = info.rows[0]?.server_version ?? '';
      const database = info.rows[0]?.database ?? '';
      const pgDumpPrinted = await toolVersionLine('pg_dump', this.pgDump);
      assertPgDumpCanDump(pgDumpPrinted, serverPrinted);

      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // Fallback counts should not take the server's cores with parallel workers (measured
      // beside a dump: +1.3–2 s on a 1 GB dump on 2 cores).
      await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
      const snapshot =
        (await client.query<{ snapshot: string }>('select pg_export_snapshot() as snapshot'))
          .rows[0]?.snapshot ?? '';
      const tables = (
        await client.query<{ schema: string; table: string; bytes: number }>(USER_TABLES_SQL)
      ).rows;
      signal.throwIfAborted();

      const spawned = spawn(
        this.pgDump,
        [
          '--format=custom',
          '--compress=0',
          `--snapshot=${snapshot}`,
          '--no-password',
          ...this.config.pgDumpArgs,
          `--dbname=${safeUrl}`,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: pgToolEnvironment(process.env, password),
        },
      );
      child = spawned;
      const stderr = new StderrTail(spawned.stderr);
      const exited = childExit(spawned, 'pg_dump');
      // pg_dump failing ends the transaction at once; otherwise it stays open until pg_dump
      // exits, or pg_dump could lose its snapshot.
      exited.then(
        (exit) => (succeeded(exit) ? undefined : endClient()),
        () => endClient(),
      );
      const counter = new CustomDumpRowCounter();
      const { stdout } = spawned;
      if (!stdout) throw new Error('pg_dump was spawned without a stdout pipe');
      // Errors reach the consumer through `counter`; destroying it stops reading pg_dump.
      pipeline(stdout, counter, () => {});
      // Settles once the counter has seen every byte (or the stream was torn down).
      const counted = new Promise<void>((resolve) => {
        streamFinished(counter, { readable: false }, () => resolve());
      });
      // Heap + TOAST without indexes: closer to a custom-format dump than pg_database_size.
      const estimate = tables.reduce((sum, t) => sum + t.bytes, 0);
      return toolStream(spawned, {
        signal,
        stop: () => {
          spawned.kill('SIGTERM');
          void endClient();
        },
        output: counter,
        expectedBytes: tables.length > 0 ? estimate : null,
        finish: async (): Promise<SourceResult> => {
          const [exit] = await Promise.allSettled([exited, counted]);
          if (signal.aborted) throw cancelledError(signal);
          if (exit.status === 'rejected') throw exit.reason;
          if (!succeeded(exit.value)) {
            throw new BackupError(
              'pg_dump_failed',
              `pg_dump ${describeExit(exit.value)}: ${redact(stderr.lines(8).join('\n')) || 'no output on stderr'}`,
            );
          }
          const fromDump = counter.tables();
          let counts: TableRowCount[];
          try {
            // The fallback counts the tables the dump's TOC holds data for (all user tables
            // only when even the TOC could not be read), so the manifest lists what the
            // archive holds, not tables pgDumpArgs left out.
            counts = fromDump
              ? sortedCounts(fromDump)
              : await countRows(client, counter.dumpedTables() ?? tables, signal);
          } catch (error) {
            if (signal.aborted) throw cancelledError(signal);
            throw new BackupError(
              'postgres_row_count_failed',
              `counting rows in ${database} failed: ${redact(messageOf(error))}`,
              { cause: error },
            );
          }
          await client.query('COMMIT');
          return {
            source: {
              kind: 'postgres',
              url: safeUrl,
              database,
              serverVersion: parsePostgresVersion(serverPrinted)?.text ?? serverPrinted,
              format: 'custom',
              snapshot,
              tables: counts,
            },
            tools: { pg_dump: parsePostgresVersion(pgDumpPrinted)?.text ?? pgDumpPrinted },
            // pg_dump succeeded, but what it warned about is not swallowed.
            warnings: pgDumpNotices(stderr.lines(200).map(redact)),
          };
        },
        release: endClient,
      });
    } catch (error) {
      child?.kill('SIGTERM');
      await endClient();
      if (signal.aborted) throw cancelledError(signal);
      if (error instanceof LifeboatError) throw error;
      throw new BackupError('postgres_failed', redact(messageOf(error)), { cause: error });
    }
  }
}

/** The counts the dump holds, sorted by schema and table like the fallback's. */
function sortedCounts(counts: readonly TableRowCount[]): TableRowCount[] {
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...counts].sort((a, b) => byName(a.schema, b.schema) || byName(a.table, b.table));
}

async function countRows(
  client: pg.Client,
  tables: readonly { schema: string; table: string }[],
  signal: AbortSignal,
): Promise<TableRowCount[]> {
  const counts: TableRowCount[] = [];
  for (const { schema, table } of tables) {
    signal.throwIfAborted();
    const relation = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
    // ONLY: a parent's rows without its inheritance children's, as pg_dump's COPY holds them.
    const result = await client.query<{ rows: string }>(
      `select count(*) as rows from only ${relation}`,
    );
    counts.push({ schema, table, rows: Number(result.rows[0]?.rows ?? 0) });
  }
  return counts;
}

function succeeded(exit: ChildExit): boolean {
  return exit.code === 0 && exit.signal === null;
}

function describeExit(exit: ChildExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
