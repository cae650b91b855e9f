import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { randomSuffix } from '../../core/ids.ts';
import { PRIVATE_FILE_MODE } from '../../core/private-modes.ts';
import { currentOwner, ownerIsAlive } from '../../staging/process-owner.ts';
import { defaultJournalRoot, ensurePrivateDirectory } from '../../staging/staging-area.ts';

const MAGIC = 'lifeboat redis restore journal v1';

/** One key about to be written: its name and the SHA-1 of the DUMP payload written. */
interface JournalledKey {
  readonly key: Buffer;
  readonly payload: Buffer;
}

/**
 * The write-ahead journal of a redis restore: the keys of each batch, with the SHA-1 of the
 * payload about to be RESTOREd, written (and handed to the kernel) before the batch is sent.
 * A redis restore goes into an empty database and never replaces a key, so the destination as
 * it was is "none of these keys": a restore killed half way is put back by removing the keys
 * of its journal that still hold what it wrote (see {@link replayRedisJournal}).
 *
 * It lives outside staging (`defaultJournalRoot()`), private, so that the staging sweep never
 * removes it before it is replayed.
 */
export class RedisRestoreJournal {
  readonly file: string;
  private readonly fd: number;

  private constructor(file: string, fd: number) {
    this.file = file;
    this.fd = fd;
  }

  static async create(root: string = defaultJournalRoot()): Promise<RedisRestoreJournal> {
    await ensurePrivateDirectory(root);
    const file = join(root, `redis-${randomSuffix(12)}.journal`);
    const fd = openSync(file, 'wx', PRIVATE_FILE_MODE);
    writeSync(fd, `${MAGIC}\n${JSON.stringify({ owner: currentOwner() })}\n`);
    return new RedisRestoreJournal(file, fd);
  }

  /** Records the keys of a batch; call it before the batch is sent. */
  record(keys: readonly JournalledKey[]): void {
    if (keys.length === 0) return;
    const line = keys.map((k) => [k.key.toString('base64'), sha1(k.payload)]);
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Closes and removes the journal: the restore's outcome is on record. */
  async remove(): Promise<void> {
    try {
      this.close();
    } catch {
      // Closed already.
    }
    await rm(this.file, { force: true });
  }
}

/** What {@link replayRedisJournal} did. */
export type RedisJournalReplay =
  | { readonly outcome: 'gone' }
  | { readonly outcome: 'running'; readonly owner: string }
  | {
      readonly outcome: 'replayed';
      /** Keys removed: written by the restore. */
      readonly removed: number;
      /** Keys of the journal that hold something else than the restore wrote: left alone. */
      readonly different: number;
    };

/**
 * Takes back what a killed redis restore wrote into `writer` (connected to its destination
 * database): each key of the journal that still holds the payload the restore wrote is
 * removed, atomically with the comparison (a script); keys that hold something else are
 * someone else's and stay. The journal is removed once replayed.
 */
export async function replayRedisJournal(file: string, writer: Redis): Promise<RedisJournalReplay> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { outcome: 'gone' };
    throw error;
  }
  const [magic, header, ...lines] = text.split('\n');
  if (magic !== MAGIC) throw new Error(`${file} is not a redis restore journal`);
  const owner = (JSON.parse(header ?? '{}') as { owner?: string }).owner ?? '';
  if (ownerIsAlive(owner)) return { outcome: 'running', owner };
  let removed = 0;
  let different = 0;
  for (const line of lines) {
    let keys: [string, string][];
    try {
      keys = JSON.parse(line) as [string, string][];
    } catch {
      // Empty, or cut short by the kill: its batch was never sent.
      continue;
    }
    const pipeline = writer.pipeline();
    for (const [key, digest] of keys) {
      pipeline.eval(UNLINK_IF_WRITTEN, 1, Buffer.from(key, 'base64'), digest);
    }
    for (const [error, result] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      if (result === 1) removed++;
      else if (result === -1) different++;
    }
  }
  await rm(file, { force: true });
  return { outcome: 'replayed', removed, different };
}

/** 1: removed; 0: not there; -1: there with another value (someone else's). */
const UNLINK_IF_WRITTEN = `
local payload = redis.call('DUMP', KEYS[1])
if not payload then return 0 end
if redis.sha1hex(payload) ~= ARGV[1] then return -1 end
return redis.call('UNLINK', KEYS[1])
`;

function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}
