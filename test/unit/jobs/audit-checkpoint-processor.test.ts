import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditKey, keyring } from '../../../src/audit/audit-keys.ts';
import { auditEvent } from '../../../src/audit/audit-recorder.ts';
import { readCheckpoints } from '../../../src/audit/checkpoint-store.ts';
import { verifyAuditLog } from '../../../src/audit/verify-audit.ts';
import { postAuditCheckpoints } from '../../../src/bot/audit-checkpoint-alerts.ts';
import { surveyStore } from '../../../src/catalog/store-survey.ts';
import type { ChatMessage } from '../../../src/chat/message.ts';
import { createAuditCheckpointProcessor } from '../../../src/jobs/processors/audit-checkpoint-processor.ts';
import type { JobContext } from '../../../src/jobs/worker.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { LocalBackupStore } from '../../../src/storage/local-backup-store.ts';
import { InMemoryAudit } from '../../doubles/in-memory-audit.ts';

const KEY = new AuditKey(randomBytes(32));
const context: JobContext = {
  jobId: 'repeat:audit-checkpoint:1795320000000',
  attempt: 1,
  signal: new AbortController().signal,
  logger: silentLogger(),
  reportProgress: async () => {},
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeboat-checkpoint-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const append = (audit: InMemoryAudit, n: number) =>
  audit.append(
    auditEvent({ identity: 'console:alice', platform: 'console', action: `a${n}`, outcome: 'ok' }),
  );

describe('the scheduled audit checkpoint', () => {
  it('writes the head into every store, once per head, and the log then verifies against it', async () => {
    const audit = new InMemoryAudit({ keys: keyring(KEY, []) });
    const stores = [
      new LocalBackupStore({ root: join(dir, 'primary') }),
      new LocalBackupStore({ root: join(dir, 'replica') }),
    ];
    const process = createAuditCheckpointProcessor({ audit, stores });
    expect(await process({ kind: 'audit-checkpoint' }, context)).toEqual({ status: 'empty' });

    for (let n = 1; n <= 3; n++) await append(audit, n);
    const first = await process({ kind: 'audit-checkpoint' }, context);
    expect(first).toMatchObject({ status: 'taken', seq: 3 });
    expect((first as { text: string }).text).toMatch(
      new RegExp(`^audit checkpoint: entry 3 .*signed with audit key ${KEY.id}, mac [0-9a-f]{64}$`),
    );
    for (const store of ['primary', 'replica']) {
      expect(await readdir(join(dir, store, 'audit', 'checkpoints'))).toEqual([
        '00000000000000000003.json',
      ]);
    }
    // Nothing appended since: the next tick writes nothing.
    expect(await process({ kind: 'audit-checkpoint' }, context)).toMatchObject({
      status: 'unchanged',
      seq: 3,
    });

    await append(audit, 4);
    expect(await process({ kind: 'audit-checkpoint' }, context)).toMatchObject({ seq: 4 });
    const reads = await readCheckpoints(stores);
    expect(reads).toHaveLength(4);
    const report = await verifyAuditLog(audit.entries(), audit.keys, reads);
    expect(report.ok).toBe(true);
    expect(report.checkpoints.latestMatching?.checkpoint.seq).toBe(4);

    audit.log.pop();
    const cut = await verifyAuditLog(audit.entries(), audit.keys, reads);
    expect(cut.findings).toEqual([
      expect.stringContaining('the log has no entry 4'),
      expect.stringContaining('the log has no entry 4'),
    ]);
  });

  it('fails when no store could take the checkpoint', async () => {
    const audit = new InMemoryAudit();
    await append(audit, 1);
    const broken = new LocalBackupStore({ root: join(dir, 'store') });
    broken.putBytes = async () => {
      throw new Error('disk full');
    };
    const process = createAuditCheckpointProcessor({ audit, stores: [broken] });
    await expect(process({ kind: 'audit-checkpoint' }, context)).rejects.toThrow(
      'the audit checkpoint of entry 1 could not be written to any store',
    );
  });
});

describe('checkpoints beside the backups in a store', () => {
  it('are not taken for backups by the survey that start-up and catalog rebuild make', async () => {
    const audit = new InMemoryAudit();
    await append(audit, 1);
    const store = new LocalBackupStore({ root: join(dir, 'store') });
    await createAuditCheckpointProcessor({ audit, stores: [store] })(
      { kind: 'audit-checkpoint' },
      context,
    );
    expect(await readCheckpoints([store])).toHaveLength(1);
    const survey = await surveyStore({ store, known: async () => new Set() });
    expect(survey.unknown).toEqual([]);
    expect(survey.seen).toBe(0);
  });
});

describe('posting scheduled checkpoints to the alerts channel', () => {
  it('posts a checkpoint that was written, and nothing for other jobs or an unchanged head', async () => {
    const events = new EventEmitter();
    const posted: { channel: string; message: ChatMessage }[] = [];
    const stop = postAuditCheckpoints({
      events: events as never,
      adapter: {
        post: async (to, message) => {
          posted.push({ channel: to.channel, message });
          return { channel: to.channel, ts: '1' } as never;
        },
      },
      channel: 'ops-alerts',
      onError: () => {},
    });
    const text = 'audit checkpoint: entry 3 …';
    events.emit('completed', {
      jobId: 'repeat:audit-checkpoint:1',
      returnvalue: JSON.stringify({ status: 'taken', text }),
    });
    events.emit('completed', {
      jobId: 'repeat:audit-checkpoint:2',
      returnvalue: { status: 'unchanged', text },
    });
    events.emit('completed', { jobId: 'bk_x', returnvalue: { status: 'taken', text } });
    stop();
    events.emit('completed', {
      jobId: 'repeat:audit-checkpoint:3',
      returnvalue: { status: 'taken', text },
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(posted).toHaveLength(1);
    expect(posted[0]?.channel).toBe('ops-alerts');
    expect(posted[0]?.message.text).toBe(text);
  });
});
