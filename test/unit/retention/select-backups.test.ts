import { describe, expect, it } from 'vitest';
import type { RetentionConfig } from '../../../src/config/schema.ts';
import {
  type EndedVerification,
  isoWeek,
  isVerified,
  parseSize,
  type RetentionCandidate,
  type RetentionPlan,
  selectBackups,
} from '../../../src/retention/select-backups.ts';

const MiB = 1024 * 1024;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A backup at `iso`, named after its time so failures read well. */
function backup(
  iso: string,
  options: { bytes?: number; verified?: boolean; suffix?: string } = {},
): RetentionCandidate {
  const at = new Date(iso);
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return {
    id: `bk_${stamp}_full_${options.suffix ?? 'aaaa'}`,
    createdAt: at,
    bytes: options.bytes ?? 10 * MiB,
    verifications: options.verified ? passed(at) : [],
  };
}

/** One passed verification, ended at `at`. */
function passed(at: Date): EndedVerification[] {
  return [{ id: `vf_${at.getTime()}`, status: 'passed', finishedAt: at }];
}

/** `b`, verified (its one verification passed) when `yes`. */
function verifiedIf(b: RetentionCandidate, yes: boolean): RetentionCandidate {
  return { ...b, verifications: yes ? passed(b.createdAt) : [] };
}

/** `count` backups `stepMs` apart, the newest at `newestIso`, newest first. */
function series(newestIso: string, count: number, stepMs: number): RetentionCandidate[] {
  const newest = new Date(newestIso).getTime();
  return Array.from({ length: count }, (_, i) =>
    backup(new Date(newest - i * stepMs).toISOString()),
  );
}

const day = (iso: string) => iso.slice(0, 10);
const keptDays = (plan: RetentionPlan) =>
  plan.kept.map((d) => day(d.backup.createdAt.toISOString()));
const reasonsOf = (plan: RetentionPlan, iso: string) =>
  plan.decisions.find((d) => d.backup.createdAt.toISOString() === new Date(iso).toISOString())
    ?.reasons;

describe('selectBackups, each rule alone', () => {
  const tenDaily = series('2026-11-22T02:00:00Z', 10, DAY);

  it.each<{ name: string; policy: RetentionConfig; kept: string[] }>([
    {
      name: 'keepLast keeps the N newest',
      policy: { keepLast: 3 },
      kept: ['2026-11-22', '2026-11-21', '2026-11-20'],
    },
    {
      name: 'daily keeps one per day for the N newest days',
      policy: { daily: 2 },
      kept: ['2026-11-22', '2026-11-21'],
    },
    {
      name: 'weekly keeps the newest of each ISO week (Monday to Sunday)',
      policy: { weekly: 3 },
      // 2026-11-22 is a Sunday (W47) and the 15th the last day of W46, which the 13th is in.
      kept: ['2026-11-22', '2026-11-15'],
    },
    {
      name: 'monthly keeps the newest of each month',
      policy: { monthly: 5 },
      kept: ['2026-11-22'],
    },
    {
      name: 'yearly keeps the newest of each year',
      policy: { yearly: 5 },
      kept: ['2026-11-22'],
    },
    {
      name: 'minKeep alone deletes nothing (a floor is not a count)',
      policy: { minKeep: 2 },
      kept: tenDaily.map((b) => day(b.createdAt.toISOString())),
    },
    {
      name: 'an empty policy deletes nothing',
      policy: {},
      kept: tenDaily.map((b) => day(b.createdAt.toISOString())),
    },
  ])('$name', ({ policy, kept }) => {
    const plan = selectBackups(policy, tenDaily);
    expect(keptDays(plan)).toEqual(kept);
    expect(plan.kept.length + plan.deleted.length).toBe(10);
    for (const d of plan.deleted) expect(d.reasons).toEqual(['delete: no rule keeps it']);
  });

  it('hourly keeps the newest backup of each of the N newest hours that have one', () => {
    // Every 20 minutes from 09:00 to 11:40, then nothing until a lone backup at 14:10.
    const backups = [
      backup('2026-11-22T14:10:00Z'),
      ...series('2026-11-22T11:40:00Z', 9, 20 * 60_000),
    ];
    const plan = selectBackups({ hourly: 3 }, backups);
    expect(plan.kept.map((d) => d.backup.createdAt.toISOString().slice(11, 16))).toEqual([
      '14:10',
      '11:40',
      '10:40',
    ]);
    expect(reasonsOf(plan, '2026-11-22T10:40:00Z')).toEqual(['keep: hourly #3 (2026-11-22 10:00)']);
    expect(plan.deleted).toHaveLength(7);
  });

  it('daily counts the days that have a backup, not calendar days', () => {
    const backups = [
      backup('2026-11-22T18:00:00Z'),
      backup('2026-11-22T02:00:00Z'),
      backup('2026-11-19T02:00:00Z'),
      backup('2026-11-12T05:00:00Z'),
      backup('2026-11-12T02:00:00Z'),
      backup('2026-10-01T02:00:00Z'),
    ];
    const plan = selectBackups({ daily: 3 }, backups);
    expect(plan.kept.map((d) => d.backup.createdAt.toISOString())).toEqual([
      '2026-11-22T18:00:00.000Z',
      '2026-11-19T02:00:00.000Z',
      '2026-11-12T05:00:00.000Z',
    ]);
    expect(plan.kept.map((d) => d.reasons)).toEqual([
      ['keep: daily #1 (2026-11-22)'],
      ['keep: daily #2 (2026-11-19)'],
      ['keep: daily #3 (2026-11-12)'],
    ]);
  });

  it('monthly and yearly buckets are UTC, whatever the local time would say', () => {
    // 23:30 UTC on the last day of the month is already the next month east of UTC.
    const backups = [backup('2026-12-01T00:30:00Z'), backup('2026-11-30T23:30:00Z')];
    const monthly = selectBackups({ monthly: 2 }, backups);
    expect(monthly.kept.map((d) => d.reasons[0])).toEqual([
      'keep: monthly #1 (2026-12)',
      'keep: monthly #2 (2026-11)',
    ]);
    const yearly = selectBackups({ yearly: 2 }, [
      backup('2027-01-01T00:00:00Z'),
      backup('2026-12-31T23:59:59Z'),
      backup('2026-06-01T00:00:00Z'),
    ]);
    expect(yearly.kept.map((d) => d.reasons[0])).toEqual([
      'keep: yearly #1 (2027)',
      'keep: yearly #2 (2026)',
    ]);
  });
});

describe('isoWeek', () => {
  it.each([
    ['2026-11-22T23:59:59Z', '2026-W47'], // Sunday ends the week
    ['2026-11-23T00:00:00Z', '2026-W48'], // Monday starts the next
    ['2026-01-01T00:00:00Z', '2026-W01'], // a Thursday: week 1
    ['2021-01-03T12:00:00Z', '2020-W53'], // early January in the previous year's last week
    ['2024-12-30T12:00:00Z', '2025-W01'], // late December in the next year's first week
    ['2027-01-01T12:00:00Z', '2026-W53'],
  ])('%s is in %s', (iso, week) => {
    expect(isoWeek(new Date(iso))).toBe(week);
  });
});

describe('selectBackups, rules together', () => {
  it('the spec example over a year of daily backups keeps 21: 7 days, 3 more weeks, 11 more months', () => {
    const year = series('2026-11-22T02:00:00Z', 365, DAY);
    expect(day(year.at(-1)?.createdAt.toISOString() ?? '')).toBe('2025-11-23');
    const plan = selectBackups({ daily: 7, weekly: 4, monthly: 12, yearly: 5, minKeep: 3 }, year);
    expect(keptDays(plan)).toEqual([
      '2026-11-22',
      '2026-11-21',
      '2026-11-20',
      '2026-11-19',
      '2026-11-18',
      '2026-11-17',
      '2026-11-16',
      '2026-11-15',
      '2026-11-08',
      '2026-11-01',
      '2026-10-31',
      '2026-09-30',
      '2026-08-31',
      '2026-07-31',
      '2026-06-30',
      '2026-05-31',
      '2026-04-30',
      '2026-03-31',
      '2026-02-28',
      '2026-01-31',
      '2025-12-31',
    ]);
    expect(plan.deleted).toHaveLength(344);
    expect(plan.freedBytes).toBe(344 * 10 * MiB);
    expect(plan.keptBytes).toBe(21 * 10 * MiB);
    expect(reasonsOf(plan, '2026-11-22T02:00:00Z')).toEqual([
      'keep: daily #1 (2026-11-22)',
      'keep: weekly #1 (2026-W47)',
      'keep: monthly #1 (2026-11)',
      'keep: yearly #1 (2026)',
      'keep: minKeep #1',
    ]);
    expect(reasonsOf(plan, '2026-11-08T02:00:00Z')).toEqual(['keep: weekly #3 (2026-W45)']);
    expect(reasonsOf(plan, '2025-12-31T02:00:00Z')).toEqual([
      'keep: monthly #12 (2025-12)',
      'keep: yearly #2 (2025)',
    ]);
    expect(reasonsOf(plan, '2026-11-14T02:00:00Z')).toEqual(['delete: no rule keeps it']);
    expect(plan.notes).toEqual([]);
  });

  it('minKeep keeps the newest N even where the other rules would keep fewer', () => {
    const backups = series('2026-11-22T02:00:00Z', 6, HOUR);
    const plan = selectBackups({ keepLast: 1, minKeep: 4 }, backups);
    expect(plan.kept.map((d) => d.reasons)).toEqual([
      ['keep: last #1', 'keep: minKeep #1'],
      ['keep: minKeep #2'],
      ['keep: minKeep #3'],
      ['keep: minKeep #4'],
    ]);
    expect(plan.deleted).toHaveLength(2);
  });

  it('a minKeep larger than the backups there are keeps them all', () => {
    const plan = selectBackups({ daily: 1, minKeep: 10 }, series('2026-11-22T02:00:00Z', 3, HOUR));
    expect(plan.deleted).toEqual([]);
  });
});

describe('the newest verified backup', () => {
  it('is kept even when no rule keeps it', () => {
    const backups = series('2026-11-22T02:00:00Z', 6, DAY).map((b, i) =>
      verifiedIf(b, i === 4 || i === 5),
    );
    const plan = selectBackups({ keepLast: 2 }, backups);
    expect(keptDays(plan)).toEqual(['2026-11-22', '2026-11-21', '2026-11-18']);
    expect(reasonsOf(plan, '2026-11-18T02:00:00Z')).toEqual(['keep: newest verified']);
    // Only the newest verified one is protected; an older verified backup may go.
    expect(reasonsOf(plan, '2026-11-17T02:00:00Z')).toEqual(['delete: no rule keeps it']);
  });

  it('is the newest backup itself when that one is verified', () => {
    const backups = series('2026-11-22T02:00:00Z', 3, DAY).map((b) => verifiedIf(b, true));
    const plan = selectBackups({ keepLast: 1 }, backups);
    expect(plan.kept.map((d) => d.reasons)).toEqual([['keep: last #1', 'keep: newest verified']]);
  });

  it('does not stop the unverified newer backups from being kept by their rules', () => {
    const backups = series('2026-11-22T02:00:00Z', 4, DAY).map((b, i) => verifiedIf(b, i === 3));
    const plan = selectBackups({ daily: 2 }, backups);
    expect(keptDays(plan)).toEqual(['2026-11-22', '2026-11-21', '2026-11-19']);
  });

  it('is the newest backup whose most recent verification passed, not one that failed since', () => {
    const [newest, middle, oldest] = series('2026-11-22T02:00:00Z', 3, DAY) as [
      RetentionCandidate,
      RetentionCandidate,
      RetentionCandidate,
    ];
    const at = (iso: string) => new Date(iso);
    const backups: RetentionCandidate[] = [
      // Passed once, then failed (say, an object was corrupted since): no longer verified.
      {
        ...newest,
        verifications: [
          { id: 'vf_1', status: 'passed', finishedAt: at('2026-11-22T03:00:00Z') },
          { id: 'vf_2', status: 'failed', finishedAt: at('2026-11-22T09:00:00Z') },
        ],
      },
      middle,
      // Failed once, then passed: verified.
      {
        ...oldest,
        verifications: [
          { id: 'vf_4', status: 'passed', finishedAt: at('2026-11-21T05:00:00Z') },
          { id: 'vf_3', status: 'failed', finishedAt: at('2026-11-20T05:00:00Z') },
        ],
      },
    ];
    const plan = selectBackups({ keepLast: 1 }, backups);
    expect(plan.kept.map((d) => [d.backup.id, d.reasons])).toEqual([
      [newest.id, ['keep: last #1']],
      [oldest.id, ['keep: newest verified']],
    ]);
    expect(plan.deleted.map((d) => d.backup.id)).toEqual([middle.id]);
  });

  it('weighs only verdicts: a verification that could not check (error) says nothing either way', () => {
    const at = (iso: string) => new Date(iso);
    const passedThenError = {
      verifications: [
        { id: 'vf_1', status: 'passed' as const, finishedAt: at('2026-11-22T03:00:00Z') },
        { id: 'vf_2', status: 'error' as const, finishedAt: at('2026-11-22T09:00:00Z') },
      ],
    };
    const failedThenError = {
      verifications: [
        { id: 'vf_3', status: 'failed' as const, finishedAt: at('2026-11-22T03:00:00Z') },
        { id: 'vf_4', status: 'error' as const, finishedAt: at('2026-11-22T09:00:00Z') },
      ],
    };
    const onlyErrors = {
      verifications: [
        { id: 'vf_5', status: 'error' as const, finishedAt: at('2026-11-22T09:00:00Z') },
      ],
    };
    expect(isVerified(passedThenError)).toBe(true);
    expect(isVerified(failedThenError)).toBe(false);
    expect(isVerified(onlyErrors)).toBe(false);
  });

  it('is not invented when nothing is verified', () => {
    const plan = selectBackups({ keepLast: 1 }, series('2026-11-22T02:00:00Z', 3, DAY));
    expect(plan.kept.flatMap((d) => d.reasons)).toEqual(['keep: last #1']);
  });
});

describe('ties and edge cases', () => {
  it('orders backups at the same time by id, whatever order they come in', () => {
    const a = backup('2026-11-22T02:00:00Z', { suffix: 'aaaa' });
    const z = backup('2026-11-22T02:00:00Z', { suffix: 'zzzz' });
    for (const input of [
      [a, z],
      [z, a],
    ]) {
      const plan = selectBackups({ daily: 1 }, input);
      expect(plan.kept.map((d) => d.backup.id)).toEqual([z.id]);
      expect(plan.deleted.map((d) => d.backup.id)).toEqual([a.id]);
    }
  });

  it('plans nothing for no backups', () => {
    const plan = selectBackups({ keepLast: 3, minKeep: 1, maxSize: '1GB' }, []);
    expect(plan).toMatchObject({ decisions: [], keptBytes: 0, freedBytes: 0, notes: [] });
  });

  it('keeps everything, saying why, when the profile has no policy', () => {
    const plan = selectBackups(undefined, series('2026-11-22T02:00:00Z', 3, DAY));
    expect(plan.hasPolicy).toBe(false);
    expect(plan.deleted).toEqual([]);
    expect(plan.kept[0]?.reasons).toEqual(['keep: the profile has no retention policy']);
  });
});

describe('the size cap', () => {
  const tenDaily = series('2026-11-22T02:00:00Z', 10, DAY);

  it('deletes the oldest kept backups until the total fits', () => {
    const plan = selectBackups({ keepLast: 10, maxSize: '35MB' }, tenDaily);
    expect(keptDays(plan)).toEqual(['2026-11-22', '2026-11-21', '2026-11-20']);
    expect(plan.keptBytes).toBe(30 * MiB);
    expect(plan.freedBytes).toBe(70 * MiB);
    expect(reasonsOf(plan, '2026-11-19T02:00:00Z')).toEqual([
      'delete: over the size cap of 35MB (oldest first; last #4 kept it)',
    ]);
    expect(plan.notes).toEqual([]);
  });

  it('alone keeps as many of the newest as fit', () => {
    const plan = selectBackups({ maxSize: '50MB' }, tenDaily);
    expect(plan.kept).toHaveLength(5);
    expect(plan.keptBytes).toBe(50 * MiB);
  });

  it('smaller than one backup still keeps the newest, and says the cap is not met', () => {
    const plan = selectBackups({ daily: 7, maxSize: '1MB' }, tenDaily);
    expect(keptDays(plan)).toEqual(['2026-11-22']);
    expect(plan.notes[0]).toMatch(/^The kept backups total 10\.0 MiB, over the size cap of 1MB/);
  });

  it('never deletes below minKeep, and says the cap is not met', () => {
    const plan = selectBackups({ keepLast: 10, minKeep: 5, maxSize: '35MB' }, tenDaily);
    expect(plan.kept).toHaveLength(5);
    expect(plan.notes).toEqual([
      'The kept backups total 50.0 MiB, over the size cap of 35MB: the newest backup, minKeep and the newest verified backup are never deleted to meet the cap.',
    ]);
  });

  it('never deletes the newest verified backup, taking a newer one instead', () => {
    const backups = tenDaily.map((b, i) => verifiedIf(b, i === 9));
    const plan = selectBackups({ keepLast: 3, maxSize: '35MB' }, backups);
    expect(keptDays(plan)).toEqual(['2026-11-22', '2026-11-21', '2026-11-13']);
    expect(reasonsOf(plan, '2026-11-20T02:00:00Z')?.[0]).toMatch(/^delete: over the size cap/);
  });

  it('counts sizes in powers of 1024', () => {
    expect(parseSize('500MB')).toBe(500 * MiB);
    expect(parseSize('2TB')).toBe(2 * 1024 ** 4);
    expect(parseSize('7B')).toBe(7);
    expect(() => parseSize('5 GB')).toThrow(/not a size/);
  });
});

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCase(seed: number): { policy: RetentionConfig; backups: RetentionCandidate[] } {
  const next = random(seed);
  const int = (max: number) => Math.floor(next() * max);
  const maybe = (max: number) => (next() < 0.5 ? undefined : 1 + int(max));
  const start = Date.parse('2025-01-01T00:00:00Z');
  const backups = Array.from({ length: int(60) }, (_, i) => ({
    id: `bk_case${seed}_${String(i).padStart(3, '0')}`,
    // Coarse times so that ties happen.
    createdAt: new Date(start + int(2 * 365 * 24) * HOUR * (next() < 0.2 ? 0 : 1)),
    bytes: int(100) * MiB,
    verifications: next() < 0.2 ? passed(new Date(start)) : [],
  }));
  const policy: Record<string, number | string | undefined> = {
    keepLast: maybe(10),
    hourly: maybe(48),
    daily: maybe(14),
    weekly: maybe(8),
    monthly: maybe(24),
    yearly: maybe(3),
    minKeep: next() < 0.5 ? undefined : int(8),
    maxSize: next() < 0.4 ? `${1 + int(2000)}MB` : undefined,
  };
  for (const key of Object.keys(policy)) if (policy[key] === undefined) delete policy[key];
  return { policy: policy as RetentionConfig, backups };
}

describe('properties over random policies and histories', () => {
  const cases = Array.from({ length: 300 }, (_, seed) => ({ seed, ...randomCase(seed) }));

  it.each(cases)('holds for case $seed', ({ policy, backups }) => {
    const plan = selectBackups(policy, backups);
    const keptIds = new Set(plan.kept.map((d) => d.backup.id));

    // Every backup gets one decision, with reasons that match it.
    expect(plan.decisions).toHaveLength(backups.length);
    for (const d of plan.decisions) {
      expect(d.reasons.length).toBeGreaterThan(0);
      for (const reason of d.reasons) expect(reason.startsWith(`${d.action}: `)).toBe(true);
    }
    expect(plan.keptBytes + plan.freedBytes).toBe(backups.reduce((s, b) => s + b.bytes, 0));

    // Never fewer kept than minKeep allows, and the minKeep newest are among them.
    const newestFirst = plan.decisions.map((d) => d.backup);
    const floor = Math.min(policy.minKeep ?? 0, backups.length);
    expect(plan.kept.length).toBeGreaterThanOrEqual(floor);
    for (const b of newestFirst.slice(0, floor)) expect(keptIds.has(b.id)).toBe(true);

    // The newest verified backup is never deleted.
    const newestVerified = newestFirst.find(isVerified);
    if (newestVerified) expect(keptIds.has(newestVerified.id)).toBe(true);

    // Something is kept whenever there is something.
    if (backups.length > 0) expect(plan.kept.length).toBeGreaterThan(0);

    // The size cap holds unless only protected backups are left, and then the plan says so.
    if (policy.maxSize && plan.keptBytes > parseSize(policy.maxSize)) {
      expect(plan.notes).toHaveLength(1);
      for (const d of plan.kept) {
        const isNewest = d.backup.id === newestFirst[0]?.id;
        const isProtected = d.reasons.some(
          (r) => r.startsWith('keep: minKeep') || r === 'keep: newest verified',
        );
        expect(isNewest || isProtected).toBe(true);
      }
    }

    // The order the backups come in does not matter.
    const shuffled = [...backups].reverse();
    expect(selectBackups(policy, shuffled).decisions.map((d) => [d.backup.id, d.action])).toEqual(
      plan.decisions.map((d) => [d.backup.id, d.action]),
    );

    // Pruning again right after deletes nothing.
    const again = selectBackups(
      policy,
      plan.kept.map((d) => d.backup),
    );
    expect(again.deleted.map((d) => d.backup.id)).toEqual([]);
  });
});

describe('isVerified', () => {
  const at = (iso: string) => new Date(iso);
  const candidate = (...verifications: EndedVerification[]) => ({ verifications });

  it('is false without any verification', () => {
    expect(isVerified(candidate())).toBe(false);
  });

  it('follows the verification that ended last, whatever order they come in', () => {
    const pass = { id: 'vf_a', status: 'passed', finishedAt: at('2026-11-22T02:00:00Z') } as const;
    const fail = { id: 'vf_b', status: 'failed', finishedAt: at('2026-11-22T03:00:00Z') } as const;
    expect(isVerified(candidate(pass, fail))).toBe(false);
    expect(isVerified(candidate(fail, pass))).toBe(false);
    const later = { ...pass, id: 'vf_c', finishedAt: at('2026-11-22T04:00:00Z') };
    expect(isVerified(candidate(fail, later, pass))).toBe(true);
  });

  it('breaks a tie in end time by id, the greater counting as later', () => {
    const when = at('2026-11-22T02:00:00Z');
    const verdict = isVerified(
      candidate(
        { id: 'vf_b', status: 'passed', finishedAt: when },
        { id: 'vf_a', status: 'failed', finishedAt: when },
      ),
    );
    expect(verdict).toBe(true);
  });
});
