import { createHash } from 'node:crypto';
import { type AuditKey, type AuditKeyring, NO_AUDIT_KEYS } from './audit-keys.ts';
import type { AuditEntry, AuditEvent, AuditVerification } from './audit-log.ts';

/**
 * The audit log's hash chain, shared by the catalog and the in-memory log so both chain alike.
 *
 * An entry chained without a key (`scheme` `sha256`) has as its hash sha256 (hex) over the
 * canonical JSON of `{seq, at, identity, platform, channel, action, command, args, requestId,
 * outcome, detail, prevHash}`, with `at` as an ISO 8601 string in milliseconds. An entry chained
 * with a key (`hmac-sha256`) has as its hash HMAC-SHA256 (hex) under that key over the canonical
 * JSON of the same fields plus `scheme` and `keyId`, so that neither can be changed either.
 * Canonical JSON is JSON without whitespace whose object keys are sorted (by UTF-16 code unit)
 * at every depth: jsonb reorders keys as it pleases, and a hash over the stored row must not
 * depend on that. Anyone can recompute an unkeyed chain from `lifeboat audit export` with these
 * rules alone; a keyed one needs the key as well, which is the point: whoever can write the
 * catalog but does not hold the key cannot write entries that verify.
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
  const fields: Record<string, unknown> = {
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
  // Unkeyed entries hash as they always have, so that logs written before keys still verify.
  if (entry.scheme !== 'sha256') {
    fields.scheme = entry.scheme;
    fields.keyId = entry.keyId;
  }
  return fields;
}

/**
 * The hash `entry` must carry: sha256 hex over the canonical form of its fields, or, for a keyed
 * entry, HMAC-SHA256 hex under `key` (which must be the entry's key).
 * @throws Error for a keyed entry without its key: the caller looks the key up by `keyId`.
 */
export function entryHash(entry: Omit<AuditEntry, 'hash'>, key?: AuditKey): string {
  const text = canonicalJson(hashedFields(entry));
  if (entry.scheme === 'sha256') return createHash('sha256').update(text).digest('hex');
  if (!key || key.id !== entry.keyId) {
    throw new Error(`entry ${entry.seq} is keyed with ${entry.keyId}: its key is needed`);
  }
  return key.mac(text);
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
export function chainEntry(
  head: ChainHead | null,
  event: AuditEvent,
  now: Date,
  key: AuditKey | null = null,
): AuditEntry {
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
    scheme: key ? ('hmac-sha256' as const) : ('sha256' as const),
    keyId: key ? key.id : null,
  };
  return { ...entry, hash: entryHash(entry, key ?? undefined) };
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
 * - a hash that does not match the entry's fields: the entry was changed after it was written;
 * - an unkeyed entry after a keyed one: a process appended without the key, or entries were
 *   rewritten by someone without it (a keyed chain never goes back to plain sha256);
 * - a keyed entry whose key `keys` does not hold: it cannot be checked.
 * An edit that also recomputes the entry's hash breaks the link to the entry after it; with a
 * keyed chain, it cannot be recomputed at all without the key. Cutting off the newest entries
 * cannot be seen from inside: compare with the checkpoints kept elsewhere (`checkpoints.ts`).
 */
export async function verifyChain(
  entries: AsyncIterable<AuditEntry> | Iterable<AuditEntry>,
  keys: AuditKeyring = NO_AUDIT_KEYS,
  onEntry?: (entry: AuditEntry) => void,
): Promise<AuditVerification> {
  let checked = 0;
  let keyed = 0;
  let lastUnkeyedSeq: number | null = null;
  let previous: AuditEntry | null = null;
  const result = (extra: Partial<AuditVerification> & { ok: boolean }): AuditVerification => ({
    entries: checked,
    head: previous ? { seq: previous.seq, hash: previous.hash, at: previous.at } : null,
    keyed,
    unkeyed: checked - keyed,
    lastUnkeyedSeq,
    currentKeyId: keys.current?.id ?? null,
    ...extra,
  });
  for await (const entry of entries) {
    const problem = brokenLink(previous, entry, keys, keyed > 0);
    if (problem) return result({ ok: false, brokenAt: entry.seq, problem });
    checked++;
    if (entry.scheme === 'sha256') lastUnkeyedSeq = entry.seq;
    else keyed++;
    previous = entry;
    onEntry?.(entry);
  }
  if (keys.current && previous?.scheme === 'sha256') {
    // Else whoever can write the catalog could rewrite the keyed tail as plain sha256, or cut
    // it off back to the entries from before the key, and leave a chain that checks.
    return result({
      ok: false,
      brokenAt: previous.seq,
      problem:
        `the newest entry (${previous.seq}) is chained without a key although an audit key is ` +
        'set: keyed entries after it were removed or rewritten without the key, or no process ' +
        'holding the key has appended since it was set (`lifeboat audit checkpoint` appends one)',
    });
  }
  return result({ ok: true });
}

/** What is wrong with `entry` following `previous` (null: it should be entry 1), if anything. */
function brokenLink(
  previous: AuditEntry | null,
  entry: AuditEntry,
  keys: AuditKeyring,
  keyedBefore: boolean,
): string | null {
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
  if (entry.scheme === 'sha256') {
    if (keyedBefore) {
      return (
        `entry ${entry.seq} is chained without a key after keyed entries: it was rewritten by ` +
        'someone without the audit key, or appended by a Lifeboat process started without ' +
        'LIFEBOAT_AUDIT_KEY (every process must have it)'
      );
    }
    if (entryHash(entry) !== entry.hash) {
      return `entry ${entry.seq} was changed after it was written (its hash does not match)`;
    }
    return null;
  }
  const key = entry.keyId === null ? undefined : keys.byId(entry.keyId);
  if (!key) {
    return (
      `entry ${entry.seq} is chained with the audit key ${entry.keyId ?? '(none recorded)'}, ` +
      'which is not given here, so it cannot be checked: set it as LIFEBOAT_AUDIT_KEY or ' +
      `add it to LIFEBOAT_AUDIT_PREVIOUS_KEYS (keys given: ${keys.ids.join(', ') || 'none'})`
    );
  }
  if (entryHash(entry, key) !== entry.hash) {
    return (
      `entry ${entry.seq} was changed after it was written ` +
      `(its keyed hash does not match under key ${key.id})`
    );
  }
  return null;
}
