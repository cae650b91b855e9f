/**
 * The audit log's model: every command, approval request, vote, refusal, execution and outcome
 * becomes one entry. Entries form a hash chain (each holds the hash of the one before), so an
 * edit, a deletion or a reordering breaks the chain where it happened. With an audit key the
 * chain is keyed (HMAC-SHA256, the key outside the catalog), so that whoever can write the
 * catalog cannot recompute it; checkpoints of its head kept outside the catalog show the tail
 * being cut off.
 */

/**
 * How an entry is chained: `sha256` (no key: detects accidents and edits by someone who does
 * not recompute the chain) or `hmac-sha256` (with the key named by `keyId`).
 */
export type ChainScheme = 'sha256' | 'hmac-sha256';

/** What happened, as the code that saw it reports it. */
export interface AuditEvent {
  /** `platform:id` of the person (`console:alice`, `slack:U012AB3CD`), or `system:worker`. */
  readonly identity: string;
  /** Where it came from: `console`, `cli`, `slack`, `discord`, `scheduler`, `worker`. */
  readonly platform: string;
  /** The channel it happened in, when there is one. */
  readonly channel: string | null;
  /**
   * What kind of event: `command`, `approval.requested`, `approval.approved`,
   * `approval.rejected`, `approval.refused`, `approval.expired`, `approval.executed`,
   * `break-glass`, `review.acknowledged`, `restore.started`, `restore.completed`,
   * `restore.failed`, `safety-backup.completed`, `safety-backup.failed`, …
   */
  readonly action: string;
  /** The command as typed (`/restore latest --profile db`), when the event has one. */
  readonly command: string | null;
  /** The command's parsed arguments, or the event's own fields. */
  readonly args: Readonly<Record<string, unknown>> | null;
  /** The approval request (`apr_…`) the event belongs to. */
  readonly requestId: string | null;
  /** How it ended: `ok`, `completed`, `refused`, `invalid`, `failed`, `pending`, `approved`, … */
  readonly outcome: string;
  /** Anything else worth keeping: reasons, ids of what ran (`rs_…`, `bk_…`), errors. */
  readonly detail: Readonly<Record<string, unknown>> | null;
}

/** An event as the log keeps it: numbered, timed and chained. */
export interface AuditEntry extends AuditEvent {
  /** 1, 2, 3, … with no gaps. */
  readonly seq: number;
  /** When it was appended (millisecond precision). */
  readonly at: Date;
  /** The hash of the entry before (64 zeros for the first). */
  readonly prevHash: string;
  /** How `hash` was computed: plain sha256, or HMAC-SHA256 under the key `keyId`. */
  readonly scheme: ChainScheme;
  /** The id of the key that chained the entry (a short hash of it); null for `sha256`. */
  readonly keyId: string | null;
  /** sha256 or HMAC-SHA256 (hex) over `prevHash` and this entry's fields; see `hash-chain.ts`. */
  readonly hash: string;
}

/** Where events are recorded. Appending never throws at the caller's work: see each adapter. */
export interface AuditLog {
  append(event: AuditEvent): Promise<AuditEntry>;
}

/** The result of checking the chain from the first entry to the last. */
export interface AuditVerification {
  /** The chain is intact (and every entry could be checked). */
  readonly ok: boolean;
  /** Entries checked (before the break, when there is one). */
  readonly entries: number;
  /** The last entry checked: seq, hash and time; null when none was. */
  readonly head: { readonly seq: number; readonly hash: string; readonly at: Date } | null;
  /** Entries chained with a key, and without one (sha256). */
  readonly keyed: number;
  readonly unkeyed: number;
  /** The seq of the last entry chained without a key, when there is one. */
  readonly lastUnkeyedSeq: number | null;
  /** The key new entries are chained with, or null: the log is unkeyed from now on. */
  readonly currentKeyId: string | null;
  /** The seq where the chain first breaks (the entry that no longer fits), when it does. */
  readonly brokenAt?: number;
  /** What is wrong there, for people: edited, missing entries, reordered, unknown key. */
  readonly problem?: string;
}
