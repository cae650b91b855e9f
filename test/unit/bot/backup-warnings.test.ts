import { describe, expect, it } from 'vitest';
import { backupWarnings, isIncomplete } from '../../../src/backup/component-warnings.ts';
import type { ManifestComponent } from '../../../src/backup/manifest.ts';
import { backupCompletedMessage } from '../../../src/bot/views/backup-run.ts';
import { safetyBackupLine } from '../../../src/bot/views/restore-run.ts';
import { completedBackup, sampleComponent } from '../../doubles/sample-backups.ts';
import { testConfig } from '../../doubles/test-config.ts';

const withWarnings = (
  component: ManifestComponent,
  warnings: ManifestComponent['warnings'],
): ManifestComponent => ({ ...component, warnings });

describe('what a backup has to say beyond its figures', () => {
  it('reads the tar warnings of a manifest before 0.4 as things not in the backup', () => {
    const legacy = sampleComponent('uploads', 'directory');
    const old: ManifestComponent = {
      ...legacy,
      source: { ...legacy.source, warnings: ['a.txt: File removed before we read it'] } as never,
    };
    expect(backupWarnings({ components: [old] })).toEqual([
      {
        component: 'uploads',
        kind: 'incomplete',
        message: 'a.txt: File removed before we read it',
      },
    ]);
    expect(isIncomplete({ components: [old] })).toBe(true);
  });

  it('puts what is missing first, and notices after', () => {
    const components = [
      withWarnings(sampleComponent('app-db', 'postgres'), [
        { kind: 'notice', message: 'pg_dump: warning: circular' },
      ]),
      withWarnings(sampleComponent('uploads', 'directory'), [
        { kind: 'incomplete', message: 'run/app.sock: not in this backup' },
      ]),
    ];
    expect(backupWarnings({ components }).map((w) => w.kind)).toEqual(['incomplete', 'notice']);
    expect(isIncomplete({ components: components.slice(0, 1) })).toBe(false);
  });

  it('makes a completed message that left something out a warning, never a success', () => {
    const record = completedBackup(testConfig(), {
      profile: 'full',
      createdAt: new Date('2026-11-22T02:00:00Z'),
      components: [
        withWarnings(sampleComponent('uploads', 'directory'), [
          { kind: 'incomplete', message: 'run/app.sock: not in this backup' },
        ]),
      ],
    });
    const message = backupCompletedMessage(record);
    const callout = message.blocks.find((b) => b.type === 'callout');
    expect(callout).toMatchObject({
      tone: 'warning',
      text: expect.stringMatching(/completed \(.*\), but 1 thing is not in it, or not whole/),
    });
    expect(message.blocks).toContainEqual({
      type: 'section',
      text: '• `uploads`: run/app.sock: not in this backup',
    });
    expect(message.text).toMatch(/but 1 thing is not in it/);
  });

  it('says so when the safety backup before a restore could not save everything', () => {
    const line = safetyBackupLine({
      safetyBackupId: 'bk_20261122T020000Z_safety_abcd',
      results: {
        components: [],
        ok: true,
        error: null,
        durationMs: 10,
        safetyBackup: {
          status: 'completed',
          backupId: 'bk_20261122T020000Z_safety_abcd',
          targets: ['uploads'],
          skipped: [],
          bytes: 1024,
          durationMs: 10,
          error: null,
          incomplete: ['uploads: run/app.sock: not in this backup: it is a socket'],
        },
      },
    } as unknown as Parameters<typeof safetyBackupLine>[0]);
    expect(line).toContain(
      'Incomplete: 1 thing could not be saved (uploads: run/app.sock: not in this backup: it is a socket)',
    );
  });
});
