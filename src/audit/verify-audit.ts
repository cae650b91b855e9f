import type { AuditKeyring } from './audit-keys.ts';
import type { AuditEntry, AuditVerification } from './audit-log.ts';
import {
  type AuditCheckpoint,
  checkpointAuthenticity,
  checkpointDisagreement,
} from './checkpoints.ts';
import { verifyChain } from './hash-chain.ts';

/** One checkpoint object as read from a store, or why it could not be read. */
export type CheckpointRead =
  | { readonly store: string; readonly key: string; readonly checkpoint: AuditCheckpoint }
  | { readonly store: string; readonly key: string; readonly problem: string };

/** A checkpoint that was judged: where it came from, and whether it is signed. */
export interface CheckedCheckpoint {
  readonly store: string;
  readonly key: string;
  readonly checkpoint: AuditCheckpoint;
  readonly signed: boolean;
}

/** What `lifeboat audit verify` found: the chain, the checkpoints, and every finding. */
export interface AuditReport {
  /** No finding: the chain is intact and agrees with every checkpoint. */
  readonly ok: boolean;
  readonly chain: AuditVerification;
  readonly checkpoints: {
    /** Checkpoint objects read (from every store). */
    readonly read: number;
    /** Of those, signed with a key whose MAC checked, and unsigned (taken without a key). */
    readonly signed: number;
    readonly unsigned: number;
    /** The newest checkpoint that matched the log (highest seq), when one did. */
    readonly latestMatching: CheckedCheckpoint | null;
    /** Checkpoints at seqs the chain did not reach intact (it breaks before them). */
    readonly unchecked: number;
  };
  /** Each problem, for people: the chain's break, forged or unreadable checkpoints, truncation. */
  readonly findings: readonly string[];
}

/**
 * Checks the chain (streamed once) and compares it with the checkpoints read from outside the
 * catalog: each checkpoint must be authentic (its MAC checks under its key, when it has one)
 * and the log must hold its entry with the hash it recorded. A checkpoint beyond the log's end
 * means the tail was cut off.
 */
export async function verifyAuditLog(
  entries: AsyncIterable<AuditEntry> | Iterable<AuditEntry>,
  keys: AuditKeyring,
  reads: readonly CheckpointRead[],
): Promise<AuditReport> {
  const findings: string[] = [];
  const bySeq = new Map<number, CheckedCheckpoint[]>();
  let signed = 0;
  let unsigned = 0;
  for (const read of reads) {
    const where = `checkpoint ${read.key} in the ${read.store} store`;
    if ('problem' in read) {
      findings.push(`${where} cannot be used: ${read.problem}`);
      continue;
    }
    const authenticity = checkpointAuthenticity(read.checkpoint, keys);
    if (authenticity.status === 'bad') {
      findings.push(`${where} (entry ${read.checkpoint.seq}): ${authenticity.problem}`);
      continue;
    }
    if (authenticity.status === 'signed') signed++;
    else unsigned++;
    const checked = { ...read, signed: authenticity.status === 'signed' };
    bySeq.set(read.checkpoint.seq, [...(bySeq.get(read.checkpoint.seq) ?? []), checked]);
  }

  let latestMatching: CheckedCheckpoint | null = null;
  const chain = await verifyChain(entries, keys, (entry) => {
    for (const checked of bySeq.get(entry.seq) ?? []) {
      const problem = checkpointDisagreement(checked.checkpoint, entry);
      if (problem) {
        findings.push(`checkpoint of entry ${entry.seq} in the ${checked.store} store: ${problem}`);
      } else if (!latestMatching || latestMatching.checkpoint.seq < entry.seq) {
        latestMatching = checked;
      }
    }
    bySeq.delete(entry.seq);
  });
  if (!chain.ok) {
    findings.unshift(`audit log broken at entry ${chain.brokenAt}: ${chain.problem}`);
  }

  let unchecked = 0;
  const beyond = [...bySeq.values()].flat().sort((a, b) => a.checkpoint.seq - b.checkpoint.seq);
  for (const checked of beyond) {
    if (!chain.ok) {
      unchecked++;
      continue;
    }
    const problem = checkpointDisagreement(checked.checkpoint, undefined);
    findings.push(
      `checkpoint of entry ${checked.checkpoint.seq} (taken ${checked.checkpoint.at.toISOString()}) in the ${checked.store} store: ${problem} (the log ends at entry ${chain.head?.seq ?? 0})`,
    );
  }
  return {
    ok: findings.length === 0,
    chain,
    checkpoints: { read: reads.length, signed, unsigned, latestMatching, unchecked },
    findings,
  };
}
