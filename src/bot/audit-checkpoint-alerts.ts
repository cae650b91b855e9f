import type { ChatAdapter } from '../chat/chat-adapter.ts';
import type { AuditCheckpointJobResult } from '../jobs/processors/audit-checkpoint-processor.ts';
import { AUDIT_CHECKPOINT_SCHEDULER } from '../schedule/audit-checkpoint-schedule.ts';
import { auditCheckpointMessage } from './views/audit-checkpoint.ts';

/** The part of the queue's events this needs: completed jobs with their return values. */
export interface CompletedJobEvents {
  on(
    event: 'completed',
    listener: (args: { jobId: string; returnvalue: unknown }) => void,
  ): unknown;
  off(
    event: 'completed',
    listener: (args: { jobId: string; returnvalue: unknown }) => void,
  ): unknown;
}

/**
 * Posts each scheduled audit checkpoint that was written to the alerts channel of the adapter's
 * platform (`chat.channels.alerts`), else to `fallbackChannel`: a copy of the chain head kept
 * outside the catalog and the stores. Returns a function that stops it.
 */
export function postAuditCheckpoints(options: {
  readonly events: CompletedJobEvents;
  readonly adapter: Pick<ChatAdapter, 'post'>;
  readonly channel: string;
  readonly onError: (error: unknown) => void;
}): () => void {
  const prefix = `repeat:${AUDIT_CHECKPOINT_SCHEDULER}:`;
  const listener = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
    if (!jobId.startsWith(prefix)) return;
    const result = (
      typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue
    ) as AuditCheckpointJobResult | null;
    if (result?.status !== 'taken' || typeof result.text !== 'string') return;
    options.adapter
      .post({ channel: options.channel }, auditCheckpointMessage(result.text))
      .catch(options.onError);
  };
  options.events.on('completed', listener);
  return () => options.events.off('completed', listener);
}
