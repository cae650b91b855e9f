import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { type AuditKeyring, NO_AUDIT_KEYS } from '../audit/audit-keys.ts';
import type { AuditEntry } from '../audit/audit-log.ts';
import { auditEvent } from '../audit/audit-recorder.ts';
import { readCheckpoints, takeCheckpoint } from '../audit/checkpoint-store.ts';
import { checkpointFields } from '../audit/checkpoints.ts';
import { describeCheckpointOutcome } from '../audit/describe-checkpoint.ts';
import { hashedFields } from '../audit/hash-chain.ts';
import { type AuditReport, verifyAuditLog } from '../audit/verify-audit.ts';
import type { AuditRepository } from '../catalog/audit-repository.ts';
import { sqlState } from '../catalog/database.ts';
import { INVALID_CATALOG_NAME } from '../catalog/ensure-database.ts';
import { type Catalog, openCatalog } from '../catalog/open-catalog.ts';
import { UserFacingError } from '../core/errors.ts';
import { plural } from '../core/format.ts';
import { redactUrl } from '../core/redact.ts';
import { checkPostgres } from '../preflight.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import type { CliOutcome } from './cli-outcome.ts';

/** SQLSTATE 42P01: the catalog has not been migrated as far as the audit log. */
const UNDEFINED_TABLE = '42P01';
/** SQLSTATE 42703: the audit log is older than the keyed chain (migration 0013). */
const UNDEFINED_COLUMN = '42703';

/** Where the audit commands read and write; the process's streams in the CLI. */
export interface AuditCommandIo {
  /** The catalog (`DATABASE_URL`). */
  readonly databaseUrl: string;
  /** The audit keys (`LIFEBOAT_AUDIT_KEY`, `LIFEBOAT_AUDIT_PREVIOUS_KEYS`). @defaultValue none */
  readonly keys?: AuditKeyring;
  /**
   * The stores checkpoints are kept in (primary first, then replicas), or why there are none
   * (no config file): then `verify` checks the chain alone and says so.
   */
  readonly stores?: readonly BackupStore[] | { readonly unavailable: string };
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Aborted when the reader of stdout went away (`| head`): the export stops there. */
  readonly stdoutClosed?: AbortSignal;
  /** Who runs the command (the operating-system user), for the audit log. */
  readonly user?: string;
  /** The clock that stamps checkpoints. @defaultValue `() => new Date()` */
  readonly now?: () => Date;
}

/**
 * `lifeboat audit verify`: checks the chain (keyed or not) and compares it with the checkpoints
 * in the stores; says what it checked and that all is intact (exit 0), or each finding (exit 1).
 * With `json`, the text goes to stderr, so that stdout holds only the outcome's JSON line.
 */
export async function auditVerify(io: AuditCommandIo, json: boolean): Promise<CliOutcome> {
  const keys = io.keys ?? NO_AUDIT_KEYS;
  const stores = Array.isArray(io.stores) ? (io.stores as readonly BackupStore[]) : null;
  const unavailable =
    stores === null
      ? ((io.stores as { unavailable: string } | undefined)?.unavailable ?? 'no store given')
      : null;
  const reads = stores ? await readCheckpoints(stores) : [];
  const report = await withAuditLog(io.databaseUrl, keys, (audit) =>
    verifyAuditLog(audit.entries(), keys, reads),
  );
  (json ? io.stderr : io.stdout).write(describeAuditReport(report, unavailable));
  const result = {
    ...reportFields(report),
    checkpointsUnavailable: unavailable,
  };
  return report.ok
    ? { code: 0, result: { status: 'ok', ...result } }
    : {
        code: 1,
        result: { status: 'failed', error: report.findings[0] ?? 'audit log broken', ...result },
      };
}

/** The report as `--json` prints it: plain values, times as ISO strings. */
function reportFields(report: AuditReport): Record<string, unknown> {
  const { chain, checkpoints } = report;
  const latest = checkpoints.latestMatching;
  return {
    ok: report.ok,
    entries: chain.entries,
    keyed: chain.keyed,
    unkeyed: chain.unkeyed,
    currentKeyId: chain.currentKeyId,
    headSeq: chain.head?.seq ?? null,
    headHash: chain.head?.hash ?? null,
    ...(chain.brokenAt !== undefined ? { brokenAt: chain.brokenAt, problem: chain.problem } : {}),
    checkpoints: {
      read: checkpoints.read,
      signed: checkpoints.signed,
      unsigned: checkpoints.unsigned,
      unchecked: checkpoints.unchecked,
      latestMatching: latest
        ? {
            seq: latest.checkpoint.seq,
            at: latest.checkpoint.at.toISOString(),
            store: latest.store,
            keyId: latest.checkpoint.keyId,
            signed: latest.signed,
          }
        : null,
    },
    findings: [...report.findings],
  };
}

/** A verification in words: what was checked, and each finding. */
export function describeAuditReport(
  report: AuditReport,
  checkpointsUnavailable: string | null,
): string {
  const { chain, checkpoints } = report;
  const lines: string[] = [];
  if (report.ok) {
    const kind =
      chain.entries === 0
        ? 'the log is empty'
        : chain.unkeyed === 0
          ? 'keyed chain intact'
          : chain.keyed === 0
            ? 'unkeyed chain intact'
            : 'chain intact';
    const latest = checkpoints.latestMatching;
    const matched = latest
      ? `, latest checkpoint seq ${latest.checkpoint.seq} at ${latest.checkpoint.at.toISOString()} matches`
      : '';
    lines.push(`audit log intact: ${entries(chain.entries)}, ${kind}${matched}`);
  } else {
    lines.push(`audit log NOT intact: ${plural(report.findings.length, 'finding', 'findings')}`);
    for (const finding of report.findings) lines.push(`  - ${finding}`);
    lines.push(`${entries(chain.entries)} checked`);
  }
  lines.push(...chainLines(report));
  lines.push(checkpointLine(report, checkpointsUnavailable));
  return `${lines.join('\n')}\n`;
}

function chainLines(report: AuditReport): string[] {
  const { chain } = report;
  const lines: string[] = [];
  if (chain.head)
    lines.push(
      `head: entry ${chain.head.seq} at ${chain.head.at.toISOString()}, hash ${chain.head.hash}`,
    );
  if (chain.keyed > 0 && chain.unkeyed > 0) {
    lines.push(
      `chain: entries 1 to ${chain.lastUnkeyedSeq} are unkeyed (sha256, from before the audit key), the ${entries(chain.keyed)} after them keyed (HMAC-SHA256)`,
    );
  } else if (chain.keyed > 0) {
    lines.push(
      'chain: keyed (HMAC-SHA256): an edited, inserted or deleted entry cannot be made to fit without the audit key',
    );
  } else if (chain.unkeyed > 0) {
    lines.push(
      'chain: UNKEYED (plain sha256): it detects accidental damage and edits that do not recompute the chain, not someone with write access to the catalog who recomputes it; set LIFEBOAT_AUDIT_KEY to key new entries',
    );
  }
  lines.push(
    chain.currentKeyId
      ? `audit key: ${chain.currentKeyId} (new entries are keyed with it)`
      : 'audit key: none (LIFEBOAT_AUDIT_KEY is not set: new entries are unkeyed)',
  );
  return lines;
}

function checkpointLine(report: AuditReport, unavailable: string | null): string {
  if (unavailable !== null) {
    return `checkpoints: not read (${unavailable}), so a tail cut off the log cannot be detected`;
  }
  const { checkpoints } = report;
  if (checkpoints.read === 0) {
    return 'checkpoints: none in the stores yet (`lifeboat audit checkpoint` takes one), so a tail cut off the log cannot be detected';
  }
  const parts = [
    `${plural(checkpoints.read, 'checkpoint', 'checkpoints')} read`,
    `${checkpoints.signed} signed`,
    `${checkpoints.unsigned} unsigned`,
  ];
  if (checkpoints.unchecked > 0)
    parts.push(`${checkpoints.unchecked} beyond the break not compared`);
  return `checkpoints: ${parts.join(', ')}`;
}

/**
 * `lifeboat audit checkpoint`: writes the checkpoint of the log's head into every store now, and
 * prints it. Exit 0 when every store holds it, 1 when one could not take it.
 */
export async function auditCheckpoint(io: AuditCommandIo, json: boolean): Promise<CliOutcome> {
  const keys = io.keys ?? NO_AUDIT_KEYS;
  if (!Array.isArray(io.stores)) {
    const why = (io.stores as { unavailable: string } | undefined)?.unavailable ?? 'no store given';
    throw new UserFacingError('audit_no_store', `cannot take a checkpoint: ${why}`);
  }
  const stores = io.stores as readonly BackupStore[];
  const now = io.now ?? (() => new Date());
  const outcome = await withAuditLog(io.databaseUrl, keys, async (audit) => {
    // Recorded first, so that the checkpoint covers its own request (keyed, with a key).
    await audit.append(
      auditEvent({
        identity: `cli:${io.user ?? 'unknown'}`,
        platform: 'cli',
        action: 'audit.checkpoint',
        command: 'lifeboat audit checkpoint',
        outcome: 'ok',
      }),
    );
    return takeCheckpoint({ head: await audit.head(), keys, stores, now: now() });
  });
  const text = describeCheckpointOutcome(outcome);
  (json ? io.stderr : io.stdout).write(`${text.join('\n')}\n`);
  if (outcome.status === 'empty') return { code: 0, result: { status: 'ok', checkpoint: null } };
  const failed = outcome.stores.filter((s) => s.status === 'failed');
  const fields = {
    checkpoint: checkpointFields(outcome.checkpoint),
    stores: outcome.stores.map((s) => ({ ...s })),
  };
  return failed.length
    ? {
        code: 1,
        result: {
          status: 'failed',
          error: `the checkpoint could not be written to ${failed.map((s) => s.store).join(', ')}`,
          ...fields,
        },
      }
    : { code: 0, result: { status: 'ok', ...fields } };
}

/**
 * `lifeboat audit export [--since TIME]`: the entries in seq order as JSON lines on stdout,
 * streamed (a page at a time, waiting when stdout is slow), for a SIEM to collect. Resolves
 * to the exit code; the count goes to stderr.
 */
export async function auditExport(io: AuditCommandIo, since: Date | null): Promise<CliOutcome> {
  const closed = io.stdoutClosed;
  const written = await withAuditLog(io.databaseUrl, io.keys ?? NO_AUDIT_KEYS, async (audit) => {
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
 * One exported line, so a SIEM can check each line: `prevHash` = the line before's `hash`; for
 * `scheme` `sha256`, `hash` = sha256 hex of the line's fields but `scheme`, `keyId` and `hash`
 * as canonical JSON (keys sorted at every depth, no whitespace; see `src/audit/hash-chain.ts`);
 * for `hmac-sha256`, HMAC-SHA256 hex under the audit key `keyId` of every field but `hash`.
 */
export function exportedEntry(entry: AuditEntry): Record<string, unknown> {
  return { ...hashedFields(entry), scheme: entry.scheme, keyId: entry.keyId, hash: entry.hash };
}

/**
 * Opens the catalog only to read the audit log: no Redis, no config, and nothing created or
 * migrated (an auditor's database role may well be read-only). A catalog without the log
 * says so and how to get one.
 */
async function withAuditLog<T>(
  databaseUrl: string,
  keys: AuditKeyring,
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
      auditKeys: keys,
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
    const state = sqlState(error);
    if (state !== UNDEFINED_TABLE && state !== UNDEFINED_COLUMN) throw error;
    throw new UserFacingError(
      'audit_log_missing',
      state === UNDEFINED_TABLE
        ? `the catalog at ${where} has no audit log yet: run \`lifeboat migrate\` first`
        : `the catalog at ${where} has an audit log older than this Lifeboat: run \`lifeboat migrate\` first`,
      { cause: error },
    );
  } finally {
    await catalog.close();
  }
}

function entries(count: number): string {
  return plural(count, 'entry', 'entries');
}
