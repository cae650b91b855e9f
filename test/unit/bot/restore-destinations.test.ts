import { describe, expect, it } from 'vitest';
import { type RestoreRun, restoreEndedMessage } from '../../../src/bot/views/restore-run.ts';
import type { RestoreRecord } from '../../../src/restore/restore-record.ts';
import type { ComponentRestoreResult } from '../../../src/restore/run-restore.ts';

const planned = (name: string, kind: string) => ({
  component: name,
  kind,
  destination: name,
  environment: 'staging',
  rawBytes: 1024,
  actions: [],
});

const plan = {
  backupId: 'bk_20261122T020000Z_full_abcd',
  profile: 'full',
  backupFinishedAt: '2026-11-22T02:00:05Z',
  components: [planned('app-db', 'postgres'), planned('uploads', 'directory')],
  needsApproval: false,
} as unknown as RestoreRun['plan'];

const run: RestoreRun = {
  id: 'rs_1',
  plan,
  requestedBy: 'console:alice',
  now: new Date('2026-11-22T03:00:00Z'),
};

function ended(components: ComponentRestoreResult[], error: string | null): RestoreRecord {
  return {
    id: 'rs_1',
    backupId: plan.backupId,
    profile: 'full',
    requestedBy: 'console:alice',
    status: error ? 'failed' : 'completed',
    plan,
    authorization: null,
    safetyBackupId: null,
    results: { components, ok: error === null, error, durationMs: 1200 },
    error,
    createdAt: new Date(),
    startedAt: new Date(),
    finishedAt: new Date(),
  };
}

const base = { checks: [], tools: {}, durationMs: 500 };

describe('a restore says what each destination holds when it ends', () => {
  it('says "restored and validated", or that the destination is unchanged', () => {
    const message = restoreEndedMessage(
      run,
      ended(
        [
          {
            ...base,
            component: 'app-db',
            destination: 'app-db',
            status: 'restored',
            ok: true,
            destinationState: 'restored',
            error: null,
            checks: [{ name: 'public.t rows', expected: 1, actual: 1, ok: true }],
          },
          {
            ...base,
            component: 'uploads',
            destination: 'uploads',
            status: 'failed',
            ok: false,
            destinationState: 'unchanged',
            error:
              'tar exited with code 2 extracting the backup: disk full; the destination is unchanged',
          },
        ],
        'uploads → uploads: tar exited with code 2',
      ),
    );
    const text = message.blocks.map((b) => ('text' in b ? b.text : '')).join('\n');
    expect(text).toContain('• `app-db`: restored and validated in 500 ms, 1 check ok');
    expect(text).toContain(
      '• `uploads`: failed: tar exited with code 2 extracting the backup: disk full. `uploads` is unchanged.',
    );
    expect(text).not.toContain('disk full; the destination is unchanged');
  });

  it('says every destination is unchanged, or which may be partly restored', () => {
    const unchanged = restoreEndedMessage(
      run,
      ended(
        [
          {
            ...base,
            component: 'uploads',
            destination: 'uploads',
            status: 'failed',
            ok: false,
            destinationState: 'unchanged',
            error: 'refused; the destination is unchanged',
          },
          {
            ...base,
            component: 'app-db',
            destination: 'app-db',
            status: 'skipped',
            ok: false,
            destinationState: 'unchanged',
            error: 'not started: an earlier component failed',
          },
        ],
        'uploads → uploads: refused',
      ),
    );
    expect(unchanged.blocks).toContainEqual(
      expect.objectContaining({
        type: 'callout',
        tone: 'danger',
        text: expect.stringMatching(/failed: .*\. Every destination is unchanged\.$/),
      }),
    );
    const unknown = restoreEndedMessage(
      run,
      ended(
        [
          {
            ...base,
            component: 'app-db',
            destination: 'app-db',
            status: 'failed',
            ok: false,
            destinationState: 'unknown',
            error: 'pg_restore exited with code 1',
          },
        ],
        'app-db → app-db: pg_restore exited with code 1',
      ),
    );
    const text = unknown.blocks.map((b) => ('text' in b ? b.text : '')).join('\n');
    expect(text).toMatch(/Some destinations may be partly restored/);
    expect(text).toContain(
      '• `app-db`: failed: pg_restore exited with code 1. `app-db` may be partly changed: check it before using it.',
    );
  });
});
