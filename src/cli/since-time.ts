import { isDuration, parseDuration } from '../core/duration.ts';

/** What `--since TIME` accepts, for messages. */
export const SINCE_FORMS =
  'an ISO 8601 date or time (2026-11-22, 2026-11-22T10:00:00Z, 2026-11-22T10:00+01:00) ' +
  'or a duration back from now (90s, 30m, 24h, 7d)';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,3}))?)?(Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$/i;

/**
 * `--since TIME` as a point in time: an ISO 8601 date (midnight UTC), a date and time with `Z`
 * or an offset, or a duration back from `now`. A time without an offset is refused rather than
 * guessed: the server's time zone and the reader's are rarely the same.
 */
export function parseSinceTime(
  text: string,
  now: Date,
): { readonly ok: true; readonly since: Date } | { readonly ok: false; readonly message: string } {
  const value = text.trim();
  const invalid = (why: string) =>
    ({ ok: false, message: `--since "${text}" ${why}; use ${SINCE_FORMS}` }) as const;
  if (isDuration(value)) return { ok: true, since: new Date(now.getTime() - parseDuration(value)) };
  if (DATE.test(value)) {
    return isCalendarDate(value)
      ? { ok: true, since: new Date(`${value}T00:00:00.000Z`) }
      : invalid('is not a date in the calendar');
  }
  const m = DATE_TIME.exec(value);
  if (!m?.[1]) return invalid('is not a date, a time or a duration');
  if (!isCalendarDate(m[1])) return invalid('is not a date in the calendar');
  if (!m[6]) return invalid('has no time zone (add Z for UTC, or an offset such as +01:00)');
  const zone = m[6].toUpperCase() === 'Z' ? 'Z' : m[6].replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const seconds = m[4] ?? '00';
  const millis = (m[5] ?? '').padEnd(3, '0');
  const since = new Date(`${m[1]}T${m[2]}:${m[3]}:${seconds}.${millis}${zone}`);
  return Number.isNaN(since.getTime()) ? invalid('is not a valid time') : { ok: true, since };
}

/** `2026-02-30` is well formed but not a day: Date would roll it over to March. */
function isCalendarDate(date: string): boolean {
  const parsed = new Date(`${date}T00:00:00.000Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date;
}
