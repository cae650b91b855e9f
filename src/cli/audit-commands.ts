import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AuditEntry, AuditVerification } from '../audit/audit-log.ts';
import { hashedFields } from '../audit/hash-chain.ts';
import type { AuditRepository } from '../catalog/audit-repository.ts';
import { sqlState } from '../catalog/database.ts';
import { INVALID_CATALOG_NAME } from '../catalog/ensure-database.ts';
import { type Catalog, openCatalog } from '../catalog/open-catalog.ts';
import { UserFacingError } from '../core/errors.ts';
import { plural } from '../core/format.ts';
import { redactUrl } from '../core/redact.ts';
import { checkPostgres } from '../preflight.ts';
import type { CliOutcome } from './cli-outcome.ts';

/** SQLSTATE 42P01: the catalog has not been migrated as far as the audit log. */
const UNDEFINED_TABLE = '42P01';

/** Where the audit commands read and write; the process's streams in the CLI. */
export interface AuditCommandIo {
  /** The catalog (`DATABASE_URL`). */
  readonly databaseUrl: string;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Aborted when the reader of stdout went away (`| head`): the export stops there. */
  readonly stdoutClosed?: AbortSignal;
}

/**
 * `lifeboat audit verify`: checks the chain and says whether it is intact (exit 0) or where it
 * first breaks (exit 1). With `json`, the text goes to stderr, so that stdout holds only the
 * outcome's JSON line: the verification with `status` `ok` or `failed`.
 */
export async function auditVerify(io: AuditCommandIo, json: boolean): Promise<CliOutcome> {
  const verification = await withAuditLog(io.databaseUrl, (audit) => audit.verify());
  (json ? io.stderr : io.stdout).write(describeVerification(verification));
  return verification.ok
    ? { code: 0, result: { status: 'ok', ...verification } }
    : {
        code: 1,
        result: {
          status: 'failed',
          error: `audit log broken at entry ${verification.brokenAt}: ${verification.problem}`,
          ...verification,
        },
      };
}

/** A verification in words, one line per fact. */
export function describeVerification(verification: AuditVerification): string {
  if (verification.ok) {
    return verification.headHash === null
      ? 'audit log intact: 0 entries (the log is empty)\n'
      : `audit log intact: ${entries(verification.entries)}, head ${verification.headHash}\n`;
  }
  return (
    `audit log broken at entry ${verification.brokenAt}: ${verification.problem}\n` +
    `${entries(verification.entries)} checked before it\n`
  );
}

function entries(count: number): string {
  return plural(count, 'entry', 'entries');
}

/**
 * `lifeboat audit export [--since TIME]`: the entries in seq order as JSON lines on stdout,
 * streamed (a page at a time, waiting when stdout is slow), for a SIEM to collect. Resolves
 * to the exit code; the count goes to stderr.
 */
export async function auditExport(io: AuditCommandIo, since: Date | null): Promise<CliOutcome> {
  const closed = io.stdoutClosed;
  const written = await withAuditLog(io.databaseUrl, async (audit) => {
    let count = 0;
    for await (const entry of audit.entries(since ? { since } : {})) {
      if (closed?.aborted) break;
      if (!io.stdout.write(`${JSON.stringify(exportedEntry(entry))}\n`)) {
        await once(io.stdout, 'drain', closed ? { signal: closed } : {}).catch(() => undefined);
      }
      count++;
    }
    return count;
  });
  // The reader took what it wanted (`| head`): a normal end, with nothing more to say.
  if (closed?.aborted)
    return { code: 0, result: { status: 'ok', exported: written, stopped: 'stdout closed' } };
  const from = since ? ` appended since ${since.toISOString()}` : '';
  io.stderr.write(`exported ${entries(written)}${from}\n`);
  return { code: 0, result: { status: 'ok', exported: written } };
}

/**
 * One exported line. Its fields without `hash` are exactly what the hash covers, so a SIEM can
 * check each line: `hash` = sha256 hex of the line's other fields as canonical JSON (keys
 * sorted at every depth, no whitespace; see `src/audit/hash-chain.ts`), and `prevHash` = the
 * line before's `hash`.
 */
export function exportedEntry(entry: AuditEntry): Record<string, unknown> {
  return { ...hashedFields(entry), hash: entry.hash };
}

/**
 * Opens the catalog only to read the audit log: no Redis, no config, and nothing created or
 * migrated (an auditor's database role may well be read-only). A catalog without the log
 * says so and how to get one.
 */
async function withAuditLog<T>(
  databaseUrl: string,
  work: (audit: AuditRepository) => Promise<T>,
): Promise<T> {
  await checkPostgres(databaseUrl, 'the catalog');
  const where = redactUrl(databaseUrl);
  let catalog: Catalog;
  try {
    catalog = await openCatalog(databaseUrl, {
      createIfMissing: false,
      applicationName: 'lifeboat audit',
      poolSize: 1,
    });
  } catch (error) {
    if (sqlState(error) !== INVALID_CATALOG_NAME) throw error;
    throw new UserFacingError(
      'audit_catalog_missing',
      `there is no catalog database at ${where}, so no audit log: check DATABASE_URL`,
      { cause: error },
    );
  }
  try {
    return await work(catalog.audit);
  } catch (error) {
    if (sqlState(error) !== UNDEFINED_TABLE) throw error;
    throw new UserFacingError(
      'audit_log_missing',
      `the catalog at ${where} has no audit log yet: run \`lifeboat migrate\` first`,
      { cause: error },
    );
  } finally {
    await catalog.close();
  }
}
