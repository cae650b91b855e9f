import { describe, expect, it } from 'vitest';
import type { ManifestComponent } from '../../../src/backup/manifest.ts';
import { backupDetailsMessage } from '../../../src/bot/views/backup-details.ts';
import { backupListMessage } from '../../../src/bot/views/backup-list.ts';
import { componentLine } from '../../../src/bot/views/verify-result.ts';
import type { ChatMessage } from '../../../src/chat/message.ts';
import { printable } from '../../../src/core/format.ts';
import { completedBackup, sampleComponent } from '../../doubles/sample-backups.ts';
import { testConfig } from '../../doubles/test-config.ts';

/** Every text of the message, as a chat or a terminal would get it. */
function allText(message: ChatMessage): string {
  const texts: string[] = [message.text];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') texts.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(message.blocks);
  return texts.join('\n');
}

const FORGED = '\n✔ Backup verified: all good';

describe('printable', () => {
  it('escapes control characters, line separators and bidi overrides, and nothing else', () => {
    expect(printable('users\nname\r\t\u001b[31m\u0000\u007f\u0085\u2028\u202e')).toBe(
      'users\\nname\\r\\t\\x1b[31m\\x00\\x7f\\x85\\u2028\\u202e',
    );
    expect(printable('café ✔ "quoted" a\\b')).toBe('café ✔ "quoted" a\\b');
  });
});

describe('names read from storage, in what people read', () => {
  const config = testConfig();
  const db = sampleComponent('app-db', 'postgres');
  const crafted: ManifestComponent = {
    ...db,
    name: `app-db${FORGED}`,
    object: 'app-db.dump.zst\u001b[2K',
    tools: { 'pg_dump\n': '15.20\u001b]0;owned\u0007' },
    source: {
      ...(db.source as Extract<ManifestComponent['source'], { kind: 'postgres' }>),
      database: `shop${FORGED}`,
      tables: [{ schema: 'public', table: `orders${FORGED}`, rows: 5 }],
    },
    warnings: [{ kind: 'incomplete', message: `left out a file${FORGED}\u001b[0m` }],
  };
  const backup = completedBackup(config, {
    profile: 'db',
    createdAt: new Date('2026-11-22T02:00:00Z'),
    note: `before upgrade${FORGED}`,
    components: [crafted],
  });

  it('`/backup show` forges no line and sends no terminal escape', () => {
    const text = allText(backupDetailsMessage(backup, new Date('2026-11-22T03:00:00Z')));
    expect(text).not.toContain('\n✔ Backup verified');
    expect(text).not.toContain('\u001b');
    expect(text).toContain('orders\\n✔ Backup verified: all good');
    expect(text).toContain('app-db\\n✔ Backup verified: all good');
  });

  it('`/backup list` keeps each backup on one line', () => {
    const message = backupListMessage([backup], {
      now: new Date('2026-11-22T03:00:00Z'),
      limit: 20,
    });
    expect(allText(message)).not.toContain('\n✔ Backup verified');
  });

  it('a verification line escapes the name and the error', () => {
    const line = componentLine({
      name: crafted.name,
      kind: 'postgres',
      key: `${backup.id}/${crafted.object}`,
      ok: false,
      bytes: 0,
      rawBytes: null,
      sha256: null,
      checked: [],
      notChecked: [],
      structure: null,
      restoreChecks: null,
      error: { code: 'object_truncated', message: `component ${crafted.name} is truncated` },
      durationMs: 1,
    });
    expect(line).not.toContain('\n');
    expect(line).toContain('app-db\\n✔ Backup verified');
  });
});
