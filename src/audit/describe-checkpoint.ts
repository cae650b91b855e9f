import type { CheckpointOutcome } from './checkpoint-store.ts';
import type { AuditCheckpoint } from './checkpoints.ts';

/** A checkpoint in one line: what it records and how it is signed. */
export function describeCheckpoint(checkpoint: AuditCheckpoint): string {
  const signature = checkpoint.keyId
    ? `signed with audit key ${checkpoint.keyId}, mac ${checkpoint.mac}`
    : 'unsigned (no audit key)';
  return `audit checkpoint: entry ${checkpoint.seq} (appended ${checkpoint.entryAt.toISOString()}), hash ${checkpoint.hash}, taken ${checkpoint.at.toISOString()}, ${signature}`;
}

/** What taking a checkpoint did, one line per store after the checkpoint itself. */
export function describeCheckpointOutcome(outcome: CheckpointOutcome): string[] {
  if (outcome.status === 'empty')
    return ['audit checkpoint: the audit log is empty, nothing to checkpoint'];
  return [
    describeCheckpoint(outcome.checkpoint),
    ...outcome.stores.map((store) =>
      store.status === 'written'
        ? `  ${store.store}: written to ${store.location}`
        : store.status === 'present'
          ? `  ${store.store}: already there, ${store.location}`
          : `  ${store.store}: FAILED, ${store.error}`,
    ),
  ];
}
