import { createHash } from 'node:crypto';
import type { AuditEntry, AuditEvent, AuditVerification } from './audit-log.ts';

/**
 * The audit log's hash chain, shared by the catalog and the in-memory log so both chain alike.
 *
 * Each entry's hash is sha256 (hex) over the canonical JSON of
 * `{seq, at, identity, platform, channel, action, command, args, requestId, outcome, detail,
 * prevHash}`, with `at` as an ISO 8601 string in milliseconds. Canonical JSON is JSON without
 * whitespace whose object keys are sorted (by UTF-16 code unit) at every depth: jsonb reorders
 * keys as it pleases, and a hash over the stored row must not depend on that. Anyone can
 * recompute the chain from `lifeboat audit export` with these rules alone.
 */

/** The `prevHash` of entry 1: there is no entry before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** The end of the chain an entry continues: what the next entry needs of the last one. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
  readonly at: Date;
}

/**
 * `value` as canonical JSON: what `JSON.stringify` writes (with `toJSON`, `undefined` members
 * left out, non-finite numbers as `null`), but object keys sorted at every depth.
 * @throws TypeError for what JSON cannot hold (a BigInt, a cycle), as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, new Set()) ?? 'null';
}

function serialise(input: unknown, ancestors: Set<object>): string | undefined {
  const value =
    typeof input === 'object' && input !== null && typeof (input as Jsonable).toJSON === 'function'
      ? (input as Jsonable).toJSON()
      : input;
  if (typeof value !== 'object' || value === null) {
    // Strings, numbers, booleans and null as JSON writes them; undefined, functions and
    // symbols have no JSON form (the caller leaves them out). BigInt throws here as it should.
    return JSON.stringify(value);
  }
  if (ancestors.has(value)) throw new TypeError('cannot hash a value that contains itself');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item) => serialise(item, ancestors) ?? 'null').join(',')}]`;
    }
    const members: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const member = serialise((value as Record<string, unknown>)[key], ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}

interface Jsonable {
  toJSON(): unknown;
}

/**
 * The fields an entry's hash covers, in the shape that is hashed (and exported): everything but
 * the hash itself, with the time as an ISO string.
 */
export function hashedFields(entry: Omit<AuditEntry, 'hash'>): Record<string, unknown> {
  return {
    seq: entry.seq,
    at: entry.at.toISOString(),
    identity: entry.identity,
    platform: entry.platform,
    channel: entry.channel,
    action: entry.action,
    command: entry.command,
    args: entry.args,
    requestId: entry.requestId,
    outcome: entry.outcome,
    detail: entry.detail,
    prevHash: entry.prevHash,
  };
}

/** The hash `entry` must carry: sha256 hex over the canonical form of its fields. */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const hashed = hashedFields(entry);
  return createHash('sha256').update(canonicalJson(hashed)).digest('hex');
}

/**
 * The entry that records `event` after `head` (null: the log is empty). `at` is cut to whole
 * milliseconds, so that it survives a round trip through `timestamptz` and `Date` unchanged,
 * and is never earlier than the entry before, so `--since` returns a tail of the log. `args`
 * and `detail` are kept as JSON would keep them (dates as strings, `undefined` left out), which
 * is what jsonb gives back: the hash is over what is stored, not over what was passed. For the
 * same reason a NUL character, which PostgreSQL text and jsonb cannot hold, is kept as U+FFFD:
 * an event is recorded whatever its text holds, never lost to a failing insert.
 */
export function chainEntry(head: ChainHead | null, event: AuditEvent, now: Date): AuditEntry {
  const ms = Math.max(
    Math.floor(now.getTime()),
    head ? head.at.getTime() : Number.NEGATIVE_INFINITY,
  );
  const entry = {
    seq: head ? head.seq + 1 : 1,
    at: new Date(ms),
    identity: storable(event.identity),
    platform: storable(event.platform),
    channel: nullableStorable(event.channel),
    action: storable(event.action),
    command: nullableStorable(event.command),
    args: asStored(event.args),
    requestId: nullableStorable(event.requestId),
    outcome: storable(event.outcome),
    detail: asStored(event.detail),
    prevHash: head ? head.hash : GENESIS_HASH,
  };
  return { ...entry, hash: entryHash(entry) };
}

function asStored(
  value: Readonly<Record<string, unknown>> | null,
): Readonly<Record<string, unknown>> | null {
  if (value === null) return null;
  const json = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'string' ? storable(v) : v,
  );
  return JSON.parse(json) as Record<string, unknown>;
}

/** The text as PostgreSQL can keep it: NUL (U+0000) becomes the replacement character. */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

function nullableStorable(text: string | null): string | null {
  return text === null ? null : storable(text);
}

/**
 * Checks the chain from entry 1 on, in the order given (seq order), reading each entry once so
 * that a log of any length can be streamed through it. Reports the FIRST broken link:
 * - a gap in the numbers: entries were deleted;
 * - a `prevHash` that is not the hash of the entry before: entries were removed (and the rest
 *   renumbered), inserted or reordered;
 * - a hash that does not match the entry's fields: the entry was changed after it was written.
 * An edit that also recomputes the entry's hash breaks the link to the entry after it. Cutting
 * off the newest entries cannot be seen from inside: compare `headHash` with one kept elsewhere.
 */
export async function verifyChain(
  entries: AsyncIterable<AuditEntry> | Iterable<AuditEntry>,
): Promise<AuditVerification> {
  let checked = 0;
  let previous: AuditEntry | null = null;
  for await (const entry of entries) {
    const problem = brokenLink(previous, entry);
    if (problem) return { ok: false, entries: checked, brokenAt: entry.seq, problem };
    checked++;
    previous = entry;
  }
  return { ok: true, entries: checked, headHash: previous ? previous.hash : null };
}

/** What is wrong with `entry` following `previous` (null: it should be entry 1), if anything. */
function brokenLink(previous: AuditEntry | null, entry: AuditEntry): string | null {
  const expected = previous ? previous.seq + 1 : 1;
  if (entry.seq > expected) {
    const missing =
      entry.seq - expected === 1
        ? `entry ${expected} is missing`
        : `entries ${expected} to ${entry.seq - 1} are missing`;
    return previous
      ? `${missing} (the entries jump from ${previous.seq} to ${entry.seq})`
      : `${missing} (the log starts at entry ${entry.seq})`;
  }
  if (entry.seq !== expected) {
    return previous
      ? `entry ${entry.seq} comes after entry ${previous.seq}: entries are repeated or out of order`
      : `the log starts at entry ${entry.seq}, not at entry 1`;
  }
  if (entry.prevHash !== (previous ? previous.hash : GENESIS_HASH)) {
    return previous
      ? `entry ${entry.seq} does not follow entry ${previous.seq} (its prev_hash is not entry ` +
          `${previous.seq}'s hash): entries were removed, inserted or reordered`
      : 'entry 1 does not start the chain (its prev_hash is not 64 zeros): ' +
          'entries were removed, inserted or reordered';
  }
  if (entryHash(entry) !== entry.hash) {
    return `entry ${entry.seq} was changed after it was written (its hash does not match)`;
  }
  return null;
}
