import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A short random suffix from [0-9a-z]. */
export function randomSuffix(length = 4): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** `20261122T020000Z` — UTC, second precision, sorts lexically by time. */
export function compactTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Profile names are safe in ids as they are; anything else is replaced by `-`. */
function idSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9-]/g, '-');
}

/** Backup ids sort by time: `bk_20261122T020000Z_full_7q3k`. */
export function newBackupId(profile: string, at: Date = new Date()): string {
  return `bk_${compactTimestamp(at)}_${idSafe(profile)}_${randomSuffix()}`;
}

/**
 * The same backup id every time for the same `seed` (a scheduled job's id): a schedule that
 * fires a job twice — a retry, a stalled worker — names one backup, not two.
 */
export function backupIdFor(profile: string, at: Date, seed: string): string {
  const hash = createHash('sha256').update(seed).digest();
  let suffix = '';
  for (const byte of hash.subarray(0, 4)) suffix += ALPHABET[byte % ALPHABET.length];
  return `bk_${compactTimestamp(at)}_${idSafe(profile)}_${suffix}`;
}

export const BACKUP_ID_PATTERN = /^bk_\d{8}T\d{6}Z_[A-Za-z0-9-]+_[0-9a-z]{4}$/;

export function isBackupId(value: string): boolean {
  return BACKUP_ID_PATTERN.test(value);
}

/** The time encoded in a backup id. */
export function backupIdTime(id: string): Date | undefined {
  const m = /^bk_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z_/.exec(id);
  if (!m) return undefined;
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

/** The profile encoded in a backup id. */
export function backupIdProfile(id: string): string | undefined {
  return /^bk_\d{8}T\d{6}Z_(.+)_[0-9a-z]{4}$/.exec(id)?.[1];
}

/** Verification ids sort by time: `vf_20261122T020000Z_7q3k9x`. */
export function newVerificationId(at: Date = new Date()): string {
  return `vf_${compactTimestamp(at)}_${randomSuffix(6)}`;
}

/** Restore ids sort by time: `rs_20261122T120000Z_7q3k9x`. */
export function newRestoreId(at: Date = new Date()): string {
  return `rs_${compactTimestamp(at)}_${randomSuffix(6)}`;
}

/** Restore check ids (a job asking a worker for a restore's facts): `rc_20261122T120000Z_7q3k9x`. */
export function newRestoreCheckId(at: Date = new Date()): string {
  return `rc_${compactTimestamp(at)}_${randomSuffix(6)}`;
}

/** Approval request ids sort by time: `apr_20261122T120000Z_7q3k9x`. */
export function newApprovalId(at: Date = new Date()): string {
  return `apr_${compactTimestamp(at)}_${randomSuffix(6)}`;
}

/** Runbook run ids sort by time: `run_20261207T120000Z_7q3k9x`. */
export function newRunId(at: Date = new Date()): string {
  return `run_${compactTimestamp(at)}_${randomSuffix(6)}`;
}
