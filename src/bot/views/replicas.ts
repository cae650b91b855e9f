import type { BackupReplica } from '../../app/services.ts';
import type { Block } from '../../chat/message.ts';
import { withoutMentionMarkers } from '../../core/format.ts';

/** What a replica field shows: where the copy is, or how it stands. */
export function replicaValue(replica: BackupReplica): string {
  switch (replica.status) {
    case 'completed':
      return replica.location;
    case 'running':
      return `copying to ${replica.location}`;
    case 'failed':
      return `failed: ${withoutMentionMarkers(replica.error ?? 'no error recorded')}`;
  }
}

/** One warning per failed copy: an alert, though the backup itself is complete. */
export function failedReplicaBlocks(replicas: readonly BackupReplica[] | undefined): Block[] {
  return (replicas ?? [])
    .filter((r) => r.status === 'failed')
    .map((r) => ({
      type: 'callout',
      tone: 'warning',
      text: `The copy to the ${r.store} replica failed: ${withoutMentionMarkers(r.error ?? 'no error recorded')}. The backup is complete in its primary store; the next backup tries the replica again.`,
    }));
}
