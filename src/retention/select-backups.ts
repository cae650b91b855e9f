import type { RetentionConfig } from '../config/schema.ts';
import { formatBytes } from '../core/format.ts';

/**
 * A verification of a backup that has ended, as retention weighs it: `error` ones (it could not
 * check) are no verdict and weigh nothing.
 */
export interface EndedVerification {
  readonly id: string;
  readonly status: 'passed' | 'failed' | 'error';
  readonly finishedAt: Date;
}

/** A completed backup of one profile, as retention sees it. */
export interface RetentionCandidate {
  readonly id: string;
  readonly createdAt: Date;
  /** Stored bytes over all components. */
  readonly bytes: number;
  /** Its verifications that ended (passed, failed or error), of any level, in any order. */
  readonly verifications: readonly EndedVerification[];
}

/**
 * Whether a backup counts as verified now: its most recent verdict (a verification that
 * passed or failed, of any level; ties by id) passed. An earlier pass says nothing once a later
 * verification failed; a verification that could not check (`error`) is no verdict and is
 * passed over.
 */
export function isVerified(candidate: Pick<RetentionCandidate, 'verifications'>): boolean {
  let latest: EndedVerification | undefined;
  for (const each of candidate.verifications) {
    if (each.status !== 'passed' && each.status !== 'failed') continue;
    const newer =
      latest === undefined ||
      each.finishedAt.getTime() > latest.finishedAt.getTime() ||
      (each.finishedAt.getTime() === latest.finishedAt.getTime() && each.id > latest.id);
    if (newer) latest = each;
  }
  return latest?.status === 'passed';
}

export type RetentionAction = 'keep' | 'delete';

/** What retention does with one backup, and why, in words for people (`keep: daily #2 (…)`). */
export interface RetentionDecision {
  readonly backup: RetentionCandidate;
  readonly action: RetentionAction;
  readonly reasons: readonly string[];
}

/** The decisions for one profile's backups, newest first. */
export interface RetentionPlan {
  /** False when the profile has no retention policy: everything is kept. */
  readonly hasPolicy: boolean;
  readonly decisions: readonly RetentionDecision[];
  readonly kept: readonly RetentionDecision[];
  readonly deleted: readonly RetentionDecision[];
  readonly keptBytes: number;
  readonly freedBytes: number;
  /** Things people should know that are not about one backup (a size cap that cannot be met). */
  readonly notes: readonly string[];
}

/** A calendar bucket rule: the newest backup in each of the last N buckets that have one. */
interface BucketRule {
  readonly name: 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
  readonly bucket: (at: Date) => string;
}

const BUCKET_RULES: readonly BucketRule[] = [
  { name: 'hourly', bucket: (at) => `${at.toISOString().slice(0, 13).replace('T', ' ')}:00` },
  { name: 'daily', bucket: (at) => at.toISOString().slice(0, 10) },
  { name: 'weekly', bucket: isoWeek },
  { name: 'monthly', bucket: (at) => at.toISOString().slice(0, 7) },
  { name: 'yearly', bucket: (at) => at.toISOString().slice(0, 4) },
];

const COUNT_RULES = ['keepLast', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

/**
 * Decides which of a profile's completed backups to keep, grandfather-father-son style as restic
 * and borg do it. Buckets are UTC; "the last N buckets" are the N newest buckets that hold a
 * backup, not the last N calendar days, so a profile that stopped backing up keeps its history.
 *
 * - `keepLast: N` keeps the N newest backups.
 * - `hourly` / `daily` / `weekly` (ISO week) / `monthly` / `yearly: N` keep the newest backup of
 *   each of the N newest buckets that hold one.
 * - A policy without any of those count rules (only `minKeep` and/or `maxSize`, or empty) keeps
 *   every backup before the size cap applies: floors and caps alone never delete by age.
 * - `minKeep: N` keeps the N newest whatever the other rules say.
 * - The newest verified backup (see {@link isVerified}: its most recent verification passed) is
 *   always kept, even when no rule keeps it.
 * - `maxSize` then deletes the oldest kept backups until the kept total fits, but never one kept
 *   by `minKeep`, the newest verified backup, nor the newest backup (a cap smaller than one
 *   backup must not leave the profile with none): when those alone exceed the cap, they stay
 *   and the plan says so in `notes`.
 *
 * Ties (same `createdAt`) are ordered by id, the greater id counting as newer, so the plan is
 * the same on every run. Without a policy every backup is kept.
 */
export function selectBackups(
  policy: RetentionConfig | undefined,
  backups: readonly RetentionCandidate[],
): RetentionPlan {
  const ordered = [...backups].sort(newestFirst);
  const reasons = new Map<string, string[]>(ordered.map((b) => [b.id, []]));
  const keep = (backup: RetentionCandidate, reason: string) => {
    reasons.get(backup.id)?.push(`keep: ${reason}`);
  };

  if (!policy) {
    for (const backup of ordered) keep(backup, 'the profile has no retention policy');
    return planOf(false, ordered, reasons, new Set(), []);
  }

  const hasCountRule = COUNT_RULES.some((rule) => policy[rule] !== undefined);
  if (!hasCountRule) {
    for (const backup of ordered) keep(backup, 'the policy has no count rule');
  }
  if (policy.keepLast !== undefined) {
    ordered.slice(0, policy.keepLast).forEach((b, i) => {
      keep(b, `last #${i + 1}`);
    });
  }
  for (const rule of BUCKET_RULES) {
    const count = policy[rule.name];
    if (count === undefined) continue;
    let kept = 0;
    let previous: string | undefined;
    for (const backup of ordered) {
      if (kept >= count) break;
      const bucket = rule.bucket(backup.createdAt);
      if (bucket === previous) continue;
      previous = bucket;
      kept++;
      keep(backup, `${rule.name} #${kept} (${bucket})`);
    }
  }

  // What the size cap may not delete: the newest backup, minKeep's and the newest verified.
  const protectedIds = new Set<string>(ordered.slice(0, 1).map((b) => b.id));
  ordered.slice(0, policy.minKeep ?? 0).forEach((b, i) => {
    keep(b, `minKeep #${i + 1}`);
    protectedIds.add(b.id);
  });
  const newestVerified = ordered.find(isVerified);
  if (newestVerified) {
    keep(newestVerified, 'newest verified');
    protectedIds.add(newestVerified.id);
  }

  const capped = new Set<string>();
  const notes: string[] = [];
  if (policy.maxSize !== undefined) {
    const cap = parseSize(policy.maxSize);
    let total = ordered
      .filter((b) => (reasons.get(b.id)?.length ?? 0) > 0)
      .reduce((sum, b) => sum + b.bytes, 0);
    for (const backup of [...ordered].reverse()) {
      if (total <= cap) break;
      const own = reasons.get(backup.id) ?? [];
      if (own.length === 0 || protectedIds.has(backup.id)) continue;
      capped.add(backup.id);
      total -= backup.bytes;
      const rules = own.map((r) => r.replace(/^keep: /, '')).join(', ');
      own.splice(
        0,
        own.length,
        `delete: over the size cap of ${policy.maxSize} (oldest first; ${rules} kept it)`,
      );
    }
    if (total > cap) {
      notes.push(
        `The kept backups total ${formatBytes(total)}, over the size cap of ${policy.maxSize}: ` +
          'the newest backup, minKeep and the newest verified backup are never deleted to meet the cap.',
      );
    }
  }
  return planOf(true, ordered, reasons, capped, notes);
}

function planOf(
  hasPolicy: boolean,
  ordered: readonly RetentionCandidate[],
  reasons: ReadonlyMap<string, string[]>,
  capped: ReadonlySet<string>,
  notes: readonly string[],
): RetentionPlan {
  const decisions = ordered.map((backup): RetentionDecision => {
    const own = reasons.get(backup.id) ?? [];
    if (capped.has(backup.id)) return { backup, action: 'delete', reasons: own };
    if (own.length === 0)
      return { backup, action: 'delete', reasons: ['delete: no rule keeps it'] };
    return { backup, action: 'keep', reasons: own };
  });
  const kept = decisions.filter((d) => d.action === 'keep');
  const deleted = decisions.filter((d) => d.action === 'delete');
  const bytesOf = (list: readonly RetentionDecision[]) =>
    list.reduce((sum, d) => sum + d.backup.bytes, 0);
  return {
    hasPolicy,
    decisions,
    kept,
    deleted,
    keptBytes: bytesOf(kept),
    freedBytes: bytesOf(deleted),
    notes,
  };
}

function newestFirst(a: RetentionCandidate, b: RetentionCandidate): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** `2026-W47`: the ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

/**
 * Bytes in a size of the config (`500MB`, `50GB`). The units count in powers of 1024, as the
 * sizes Lifeboat shows in chat do, so a cap of `50GB` is met when the list shows 50.0 GiB.
 */
export function parseSize(text: string): number {
  const m = /^(\d+)(B|KB|MB|GB|TB)$/.exec(text);
  const unit = m?.[2] ? SIZE_UNITS[m[2]] : undefined;
  if (!m || unit === undefined) {
    throw new RangeError(`not a size: "${text}" (a number and a unit: 500MB, 50GB, 2TB)`);
  }
  return Number(m[1]) * unit;
}
