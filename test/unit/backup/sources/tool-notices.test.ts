import { describe, expect, it } from 'vitest';
import { pgDumpNotices, redisCliNotices } from '../../../../src/backup/sources/tool-notices.ts';

describe('what tools say on stderr when they succeed', () => {
  it("joins pg_dump's detail and hint lines to the warning they belong to", () => {
    expect(
      pgDumpNotices([
        'pg_dump: warning: there are circular foreign-key constraints among these tables:',
        'pg_dump: detail: a',
        'pg_dump: hint: use a full dump',
        'pg_dump: warning: something else',
      ]),
    ).toEqual([
      {
        kind: 'notice',
        message:
          'pg_dump: warning: there are circular foreign-key constraints among these tables: detail: a hint: use a full dump',
      },
      { kind: 'notice', message: 'pg_dump: warning: something else' },
    ]);
  });

  it("leaves out redis-cli's progress lines and keeps anything else it says", () => {
    expect(
      redisCliNotices([
        'sending REPLCONF capa eof',
        'sending REPLCONF rdb-only 1',
        "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '-'",
        'Warning: the server runs a module whose data this snapshot may not hold',
        'Transfer finished with success after 6473 bytes',
      ]),
    ).toEqual([
      {
        kind: 'notice',
        message: 'Warning: the server runs a module whose data this snapshot may not hold',
      },
    ]);
    expect(redisCliNotices(['sending REPLCONF capa eof', ''])).toEqual([]);
  });

  it('sums up a tool that says too much', () => {
    const notices = pgDumpNotices(Array.from({ length: 30 }, (_, i) => `pg_dump: warning: ${i}`));
    expect(notices).toHaveLength(21);
    expect(notices.at(-1)?.message).toBe('… and 10 more lines like these');
  });
});
