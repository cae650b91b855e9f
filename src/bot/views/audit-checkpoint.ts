import type { ChatMessage } from '../../chat/message.ts';

/**
 * A checkpoint of the audit log's head, as posted to the alerts channel: a copy kept outside
 * the catalog and the stores, to compare with `lifeboat audit verify` later. `text` is the line
 * `describeCheckpoint` wrote (seq, hash, times, key id, MAC).
 */
export function auditCheckpointMessage(text: string): ChatMessage {
  return {
    text,
    blocks: [
      { type: 'section', text },
      {
        type: 'context',
        text: 'Keep this: `lifeboat audit verify` finds the log cut back or rewritten behind it.',
      },
    ],
  };
}
