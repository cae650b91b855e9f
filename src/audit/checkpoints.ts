import { z } from 'zod';
import type { AuditKey, AuditKeyring } from './audit-keys.ts';
import type { AuditEntry, ChainScheme } from './audit-log.ts';
import { canonicalJson } from './hash-chain.ts';

/**
 * Checkpoints of the audit log's head, kept outside the catalog (in the backup stores, and
 * posted to the alerts channel), so that cutting off the newest entries — which leaves a chain
 * that is intact from inside — shows: the log must reach every checkpoint's entry, with the
 * hash the checkpoint recorded. With an audit key, a checkpoint carries an HMAC over its fields
 * under that key, so that one cannot be forged by whoever can write the store but lacks the key.
 *
 * Pure: what a checkpoint holds, its stored form, and how one is judged against the log.
 */

/** Where checkpoints live in a store: one object each, named by the seq they record. */
export const CHECKPOINT_PREFIX = 'audit/checkpoints/';

/** The format tag of a checkpoint object. */
const FORMAT = 'lifeboat-audit-checkpoint';

export interface AuditCheckpoint {
  /** The entry the checkpoint records: its seq, hash, time and how it was chained. */
  readonly seq: number;
  readonly hash: string;
  readonly entryAt: Date;
  readonly scheme: ChainScheme;
  /** The key that chained the entry and signs the checkpoint; null without a key. */
  readonly keyId: string | null;
  /** When the checkpoint was taken. */
  readonly at: Date;
  /** HMAC-SHA256 hex over the fields above under `keyId`'s key; null without a key. */
  readonly mac: string | null;
}

/** The store key of the checkpoint of entry `seq`: zero-padded, so keys sort as seqs do. */
export function checkpointKey(seq: number): string {
  return `${CHECKPOINT_PREFIX}${String(seq).padStart(20, '0')}.json`;
}

/** A checkpoint's fields as JSON values, the MAC aside. */
function unsignedFields(checkpoint: Omit<AuditCheckpoint, 'mac'>) {
  return {
    seq: checkpoint.seq,
    hash: checkpoint.hash,
    entryAt: checkpoint.entryAt.toISOString(),
    scheme: checkpoint.scheme,
    keyId: checkpoint.keyId,
    at: checkpoint.at.toISOString(),
  };
}

/** A checkpoint's fields as JSON values, the MAC included: what is stored and printed. */
export function checkpointFields(checkpoint: AuditCheckpoint) {
  return { ...unsignedFields(checkpoint), mac: checkpoint.mac };
}

/** What the MAC covers: every field but the MAC, with the format tag, as canonical JSON. */
function signedText(checkpoint: Omit<AuditCheckpoint, 'mac'>): string {
  return canonicalJson({ format: FORMAT, ...unsignedFields(checkpoint) });
}

/**
 * The checkpoint of `entry` (the log's head), signed with `key` when the process holds one. An
 * entry chained with another key (the log's head written before a rotation) is signed with the
 * current key, which the checkpoint then names.
 */
export function makeCheckpoint(entry: AuditEntry, at: Date, key: AuditKey | null): AuditCheckpoint {
  const unsigned = {
    seq: entry.seq,
    hash: entry.hash,
    entryAt: entry.at,
    scheme: entry.scheme,
    keyId: key ? key.id : null,
    at,
  };
  return { ...unsigned, mac: key ? key.mac(signedText(unsigned)) : null };
}

/** The checkpoint as stored: a small JSON object. */
export function serialiseCheckpoint(checkpoint: AuditCheckpoint): Uint8Array {
  return Buffer.from(`${JSON.stringify({ format: FORMAT, ...checkpointFields(checkpoint) })}\n`);
}

const isoTime = z.iso.datetime({ offset: true }).transform((text) => new Date(text));
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const storedCheckpoint = z.strictObject({
  format: z.literal(FORMAT),
  seq: z.number().int().positive(),
  hash: hex64,
  entryAt: isoTime,
  scheme: z.enum(['sha256', 'hmac-sha256']),
  keyId: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .nullable(),
  at: isoTime,
  mac: hex64.nullable(),
});

/** A stored checkpoint read back, or why it cannot be (not JSON, not a checkpoint). */
export function parseCheckpoint(
  text: string,
): { ok: true; checkpoint: AuditCheckpoint } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'it is not JSON' };
  }
  const parsed = storedCheckpoint.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `it is not an audit checkpoint (${issue?.path.join('.') || 'the object'}: ${issue?.message})`,
    };
  }
  const { format: _format, ...checkpoint } = parsed.data;
  if ((checkpoint.keyId === null) !== (checkpoint.mac === null)) {
    return { ok: false, problem: 'it has a key id without a MAC, or a MAC without a key id' };
  }
  return { ok: true, checkpoint };
}

/**
 * Whether a checkpoint is authentic as far as `keys` can tell: `signed` (its MAC checks under
 * its key), `unsigned` (taken without a key: it proves what it says only as far as the store
 * it was read from is trusted), or a problem (a MAC that does not match: forged or damaged; a
 * key not held here: it cannot be checked).
 */
export function checkpointAuthenticity(
  checkpoint: AuditCheckpoint,
  keys: AuditKeyring,
): { status: 'signed' | 'unsigned' } | { status: 'bad'; problem: string } {
  if (checkpoint.keyId === null || checkpoint.mac === null) return { status: 'unsigned' };
  const key = keys.byId(checkpoint.keyId);
  if (!key) {
    return {
      status: 'bad',
      problem: `it is signed with the audit key ${checkpoint.keyId}, which is not given here, so it cannot be checked (set it as LIFEBOAT_AUDIT_KEY or add it to LIFEBOAT_AUDIT_PREVIOUS_KEYS)`,
    };
  }
  const { mac, ...unsigned } = checkpoint;
  if (key.mac(signedText(unsigned)) !== mac) {
    return {
      status: 'bad',
      problem: 'its MAC does not match its contents: it was forged or changed after it was written',
    };
  }
  return { status: 'signed' };
}

/**
 * What is wrong between the checkpoint and the entry the log holds at its seq (undefined: the
 * log has no such entry), if anything.
 */
export function checkpointDisagreement(
  checkpoint: AuditCheckpoint,
  entry: AuditEntry | undefined,
): string | null {
  if (!entry) {
    return `the log has no entry ${checkpoint.seq}: entries up to at least ${checkpoint.seq} were written, so the log was cut back (truncated) after that checkpoint was taken`;
  }
  if (entry.hash !== checkpoint.hash) {
    return `entry ${checkpoint.seq}'s hash is not the one checkpointed (${checkpoint.hash.slice(0, 16)}…, now ${entry.hash.slice(0, 16)}…): the log was rewritten from there back`;
  }
  if (entry.scheme !== checkpoint.scheme) {
    return `entry ${checkpoint.seq} is chained ${entry.scheme}, but was ${checkpoint.scheme} when checkpointed`;
  }
  return null;
}
