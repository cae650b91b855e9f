import { type AuditKeyring, NO_AUDIT_KEYS } from '../audit/audit-keys.ts';
import type { AuditEntry, AuditEvent, AuditLog, AuditVerification } from '../audit/audit-log.ts';
import { type ChainHead, chainEntry, verifyChain } from '../audit/hash-chain.ts';
import type { Database } from './database.ts';

/** Which entries to read: all by default. */
export interface AuditEntriesOptions {
  /** Only entries appended at or after this time. */
  readonly since?: Date;
  /** Only entries after this seq (to carry on from the last one read). */
  readonly afterSeq?: number;
}

/** The audit log in the catalog: append, read in seq order, check the chain. */
export interface AuditRepository extends AuditLog {
  /**
   * Appends `event` as the next entry, chained to the last one, and returns it. Throws when the
   * catalog cannot record it; callers that must not fail use `recordAudit`.
   */
  append(event: AuditEvent): Promise<AuditEntry>;
  /** The entries in seq order, read a page at a time: never the whole log in memory. */
  entries(options?: AuditEntriesOptions): AsyncIterable<AuditEntry>;
  /** The last entry, or null when the log is empty. */
  head(): Promise<AuditEntry | null>;
  /** Checks the whole chain, streaming it, with the keys given; reports the first broken link. */
  verify(): Promise<AuditVerification>;
  /** The keys entries are chained and checked with. */
  readonly keys: AuditKeyring;
}

export interface AuditRepositoryOptions {
  /** The clock stamping entries. @defaultValue `() => new Date()` */
  readonly now?: () => Date;
  /** Entries read per query by `entries` and `verify`. @defaultValue 500 */
  readonly pageSize?: number;
  /** The audit keys: new entries are chained with the current one. @defaultValue none */
  readonly keys?: AuditKeyring;
}

/**
 * Every appender takes this transaction-level advisory lock before reading the last entry, so
 * appends from any number of processes queue up and each continues the chain the one before
 * left. (The primary key on seq would refuse a fork anyway; the lock keeps it from failing.)
 */
const APPEND_LOCK_KEY = '7305104287360172887';

interface AuditRow {
  seq: string;
  at: Date;
  identity: string;
  platform: string;
  channel: string | null;
  action: string;
  command: string | null;
  args: Record<string, unknown> | null;
  request_id: string | null;
  outcome: string;
  detail: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
  scheme: 'sha256' | 'hmac-sha256';
  key_id: string | null;
}

const COLUMNS =
  'seq, at, identity, platform, channel, action, command, args, request_id, outcome, detail, prev_hash, hash, scheme, key_id';

export function createAuditRepository(
  db: Database,
  options: AuditRepositoryOptions = {},
): AuditRepository {
  const now = options.now ?? (() => new Date());
  const pageSize = options.pageSize ?? 500;
  const keys = options.keys ?? NO_AUDIT_KEYS;

  async function* entries(query: AuditEntriesOptions = {}): AsyncGenerator<AuditEntry> {
    // Keyset paging on seq: each page is one short query, and appends in between are seen.
    let after = query.afterSeq ?? 0;
    for (;;) {
      const rows = await db.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_log
          WHERE seq > $1 AND ($2::timestamptz IS NULL OR at >= $2)
          ORDER BY seq LIMIT $3`,
        [after, query.since ?? null, pageSize],
      );
      for (const row of rows) yield toEntry(row);
      const last = rows[rows.length - 1];
      if (!last || rows.length < pageSize) return;
      after = Number(last.seq);
    }
  }

  return {
    append(event) {
      return db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [APPEND_LOCK_KEY]);
        // Read after the lock: in READ COMMITTED this statement sees the previous holder's row.
        const [last] = await tx.query<{ seq: string; hash: string; at: Date }>(
          'SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1',
        );
        const head: ChainHead | null = last
          ? { seq: Number(last.seq), hash: last.hash, at: last.at }
          : null;
        const entry = chainEntry(head, event, now(), keys.current);
        await tx.query(
          `INSERT INTO audit_log (${COLUMNS})
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
          [
            entry.seq,
            entry.at,
            entry.identity,
            entry.platform,
            entry.channel,
            entry.action,
            entry.command,
            jsonParameter(entry.args),
            entry.requestId,
            entry.outcome,
            jsonParameter(entry.detail),
            entry.prevHash,
            entry.hash,
            entry.scheme,
            entry.keyId,
          ],
        );
        return entry;
      });
    },
    entries,
    async head() {
      const [row] = await db.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1`,
      );
      return row ? toEntry(row) : null;
    },
    verify() {
      return verifyChain(entries(), keys);
    },
    keys,
  };
}

/** A jsonb parameter: SQL NULL for null, else its JSON text (node-postgres would send arrays as SQL arrays). */
function jsonParameter(value: Readonly<Record<string, unknown>> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    seq: Number(row.seq),
    at: row.at,
    identity: row.identity,
    platform: row.platform,
    channel: row.channel,
    action: row.action,
    command: row.command,
    args: row.args,
    requestId: row.request_id,
    outcome: row.outcome,
    detail: row.detail,
    prevHash: row.prev_hash,
    hash: row.hash,
    scheme: row.scheme,
    keyId: row.key_id,
  };
}
