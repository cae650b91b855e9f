/**
 * The audit log's model: every command, approval request, vote, refusal, execution and outcome
 * becomes one entry. Entries form a hash chain (each holds the hash of the one before), so an
 * edit, a deletion or a reordering breaks the chain where it happened.
 */

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
  /** sha256 (hex) over `prevHash` and this entry's fields; see `hash-chain.ts`. */
  readonly hash: string;
}

/** Where events are recorded. Appending never throws at the caller's work: see each adapter. */
export interface AuditLog {
  append(event: AuditEvent): Promise<AuditEntry>;
}

/** The result of checking the chain from the first entry to the last. */
export type AuditVerification =
  | {
      readonly ok: true;
      readonly entries: number;
      /** The last entry's hash: keep it elsewhere to detect the tail being cut off later. */
      readonly headHash: string | null;
    }
  | {
      readonly ok: false;
      /** Entries checked before the break. */
      readonly entries: number;
      /** The seq where the chain first breaks (the entry that no longer fits). */
      readonly brokenAt: number;
      /** What is wrong there, for people: edited, missing entries, reordered. */
      readonly problem: string;
    };
