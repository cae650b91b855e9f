import type { BackupStore } from '../storage/backup-store.ts';
import { readBoundedText } from '../storage/read-bounded.ts';
import type { AuditKeyring } from './audit-keys.ts';
import type { AuditEntry } from './audit-log.ts';
import {
  type AuditCheckpoint,
  CHECKPOINT_PREFIX,
  checkpointKey,
  makeCheckpoint,
  parseCheckpoint,
  serialiseCheckpoint,
} from './checkpoints.ts';
import type { CheckpointRead } from './verify-audit.ts';

/** No checkpoint is larger than this; a larger object under the prefix is not one. */
const MAX_CHECKPOINT_BYTES = 4096;

/** How one store took the checkpoint. */
export interface CheckpointWrite {
  readonly store: string;
  /** `written` now, `present` from an earlier run (same seq), or `failed` with the reason. */
  readonly status: 'written' | 'present' | 'failed';
  readonly location: string;
  readonly error?: string;
}

/** What taking a checkpoint did: nothing for an empty log, else the checkpoint and each store. */
export type CheckpointOutcome =
  | { readonly status: 'empty' }
  | {
      readonly status: 'taken';
      readonly checkpoint: AuditCheckpoint;
      readonly stores: readonly CheckpointWrite[];
    };

export interface TakeCheckpointOptions {
  /** The last entry of the log (null: empty, nothing to checkpoint). */
  readonly head: AuditEntry | null;
  readonly keys: AuditKeyring;
  /** The primary store first, then the replicas: each gets a copy. */
  readonly stores: readonly BackupStore[];
  readonly now: Date;
}

/**
 * Writes the checkpoint of the log's head into every store, atomically (`putBytes`), under
 * `audit/checkpoints/<seq>.json`. A store that already holds the checkpoint of that seq keeps
 * it (the log did not move since); a store that fails is reported, not thrown, so the others
 * still get their copy.
 */
export async function takeCheckpoint(options: TakeCheckpointOptions): Promise<CheckpointOutcome> {
  if (!options.head) return { status: 'empty' };
  const checkpoint = makeCheckpoint(options.head, options.now, options.keys.current);
  const key = checkpointKey(checkpoint.seq);
  const body = serialiseCheckpoint(checkpoint);
  const stores = await Promise.all(
    options.stores.map(async (store): Promise<CheckpointWrite> => {
      const location = store.describe(key);
      try {
        if (await store.stat(key)) return { store: store.name, status: 'present', location };
        await store.putBytes(key, body);
        return { store: store.name, status: 'written', location };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { store: store.name, status: 'failed', location, error: message };
      }
    }),
  );
  return { status: 'taken', checkpoint, stores };
}

/**
 * Every checkpoint in every store, read and parsed (not judged: see `verifyAuditLog`). An
 * object that cannot be read or is no checkpoint is reported as such; a store that cannot be
 * listed throws, since what it holds is then unknown.
 */
export async function readCheckpoints(stores: readonly BackupStore[]): Promise<CheckpointRead[]> {
  const reads: CheckpointRead[] = [];
  for (const store of stores) {
    for await (const object of store.list(CHECKPOINT_PREFIX)) {
      const where = { store: store.name, key: object.key };
      if (!/^audit\/checkpoints\/\d{20}\.json$/.test(object.key)) {
        reads.push({ ...where, problem: 'its name is not that of a checkpoint' });
        continue;
      }
      if (object.bytes > MAX_CHECKPOINT_BYTES) {
        reads.push({ ...where, problem: `it is ${object.bytes} bytes, more than any checkpoint` });
        continue;
      }
      let text: string;
      try {
        text = await readBoundedText(
          store,
          object.key,
          MAX_CHECKPOINT_BYTES,
          () => new Error(`it is larger than any checkpoint (${MAX_CHECKPOINT_BYTES} bytes)`),
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        reads.push({ ...where, problem: `it cannot be read: ${message}` });
        continue;
      }
      const parsed = parseCheckpoint(text);
      if (!parsed.ok) {
        reads.push({ ...where, problem: parsed.problem });
        continue;
      }
      if (checkpointKey(parsed.checkpoint.seq) !== object.key) {
        reads.push({
          ...where,
          problem: `it records entry ${parsed.checkpoint.seq}, not the entry its name says`,
        });
        continue;
      }
      reads.push({ ...where, checkpoint: parsed.checkpoint });
    }
  }
  return reads;
}
