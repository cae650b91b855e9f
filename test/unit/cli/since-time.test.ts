import { describe, expect, it } from 'vitest';
import { parseSinceTime } from '../../../src/cli/since-time.ts';

const NOW = new Date('2026-11-22T12:00:00.000Z');

function since(text: string): Date {
  const parsed = parseSinceTime(text, NOW);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.since;
}

function refusal(text: string): string {
  const parsed = parseSinceTime(text, NOW);
  if (parsed.ok) throw new Error(`"${text}" was taken as ${parsed.since.toISOString()}`);
  return parsed.message;
}

describe('--since TIME', () => {
  it('counts a duration back from now', () => {
    expect(since('24h')).toEqual(new Date('2026-11-21T12:00:00.000Z'));
    expect(since('7d')).toEqual(new Date('2026-11-15T12:00:00.000Z'));
    expect(since('90s')).toEqual(new Date('2026-11-22T11:58:30.000Z'));
  });

  it('takes a date as midnight UTC', () => {
    expect(since('2026-11-22')).toEqual(new Date('2026-11-22T00:00:00.000Z'));
  });

  it('takes a date and time with Z or an offset, to the millisecond', () => {
    expect(since('2026-11-22T10:00:00Z')).toEqual(new Date('2026-11-22T10:00:00.000Z'));
    expect(since('2026-11-22T10:00Z')).toEqual(new Date('2026-11-22T10:00:00.000Z'));
    expect(since('2026-11-22 10:00:00.25z')).toEqual(new Date('2026-11-22T10:00:00.250Z'));
    expect(since('2026-11-22T10:00:00+01:00')).toEqual(new Date('2026-11-22T09:00:00.000Z'));
    expect(since('2026-11-22T10:00:00-0530')).toEqual(new Date('2026-11-22T15:30:00.000Z'));
  });

  it('refuses a time without a zone rather than guessing one', () => {
    expect(refusal('2026-11-22T10:00:00')).toMatch(/has no time zone \(add Z for UTC/);
  });

  it('refuses days that are not in the calendar and times that are not times', () => {
    expect(refusal('2026-02-30')).toMatch(/is not a date in the calendar/);
    expect(refusal('2026-02-30T10:00Z')).toMatch(/is not a date in the calendar/);
    expect(refusal('2026-11-22T24:00Z')).toMatch(/is not a date, a time or a duration/);
  });

  it('refuses words, saying every form it takes', () => {
    expect(refusal('yesterday')).toBe(
      '--since "yesterday" is not a date, a time or a duration; use an ISO 8601 date or time ' +
        '(2026-11-22, 2026-11-22T10:00:00Z, 2026-11-22T10:00+01:00) or a duration back from now ' +
        '(90s, 30m, 24h, 7d)',
    );
    expect(refusal('24 hours')).toMatch(/is not a date/);
    expect(refusal('')).toMatch(/is not a date/);
  });
});
