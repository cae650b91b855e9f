import { BackupError } from '../../core/errors.ts';

/** A PostgreSQL version as the tools and the server print it. */
export interface PostgresVersion {
  /** The version number as printed: `15.20`, `9.6.24`, `17beta1`. */
  readonly text: string;
  /** The major version: `15`, or `9.6` before PostgreSQL 10. */
  readonly major: string;
  /** The major version as numbers, for comparing: `[15, 0]`, `[9, 6]`. */
  readonly majorParts: readonly [number, number];
}

/**
 * Reads the version out of `pg_dump --version` (`pg_dump (PostgreSQL) 15.20 (Debian …)`) or the
 * server's `server_version` (`15.20 (Debian 15.20-0+deb12u1)`); undefined when there is none.
 */
export function parsePostgresVersion(printed: string): PostgresVersion | undefined {
  const afterName = /\(PostgreSQL\)\s+(\S+)/.exec(printed)?.[1];
  const text = (afterName ?? printed.trim().split(/\s+/)[0] ?? '').trim();
  const match = /^(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  const first = Number(match[1]);
  const second = match[2] === undefined ? 0 : Number(match[2]);
  // Before 10, the major version had two parts (9.6); from 10 on, one (15).
  if (first < 10) return { text, major: `${first}.${second}`, majorParts: [first, second] };
  return { text, major: String(first), majorParts: [first, 0] };
}

/** Negative when `a`'s major version is older than `b`'s, 0 when equal, positive when newer. */
export function compareMajorVersions(a: PostgresVersion, b: PostgresVersion): number {
  return a.majorParts[0] - b.majorParts[0] || a.majorParts[1] - b.majorParts[1];
}

/**
 * Throws `pg_dump_too_old` when `pg_dump` cannot dump the server: it refuses servers of a newer
 * major version than its own. Either version unreadable is `postgres_version_unknown`.
 */
export function assertPgDumpCanDump(pgDumpPrinted: string, serverPrinted: string): void {
  const pgDump = parsePostgresVersion(pgDumpPrinted);
  const server = parsePostgresVersion(serverPrinted);
  if (!pgDump || !server) {
    throw new BackupError(
      'postgres_version_unknown',
      `cannot read the PostgreSQL versions (pg_dump: "${pgDumpPrinted}", server: "${serverPrinted}")`,
    );
  }
  if (compareMajorVersions(pgDump, server) < 0) {
    throw new BackupError(
      'pg_dump_too_old',
      `pg_dump ${pgDump.text} is older than the server (PostgreSQL ${server.text}) and cannot dump it; ` +
        `install the PostgreSQL ${server.major} client tools (or newer) on the worker`,
    );
  }
}
