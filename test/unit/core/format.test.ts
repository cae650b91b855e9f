import { describe, expect, it } from 'vitest';
import { displayFileName } from '../../../src/core/file-names.ts';
import {
  formatAge,
  formatBytes,
  formatDuration,
  formatPercent,
  formatRate,
  formatSpan,
  formatTimestamp,
  plural,
  printable,
  progressBar,
  shortSha,
} from '../../../src/core/format.ts';

describe('format', () => {
  it('writes sizes in binary units with one decimal', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(12.3 * 1024 * 1024)).toBe('12.3 MiB');
    expect(formatBytes(5 * 1024 ** 4)).toBe('5.0 TiB');
  });

  it('writes rates per second', () => {
    expect(formatRate(5.1 * 1024 * 1024)).toBe('5.1 MiB/s');
  });

  it('writes durations at a precision that fits their length', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4m 05s');
    expect(formatDuration(7_380_000)).toBe('2h 03m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d 4h');
    expect(formatDuration(-1)).toBe('—');
  });

  it('writes spans to plan with to the nearest minute', () => {
    expect(formatSpan(45_000)).toBe('45 s');
    expect(formatSpan(29 * 60_000 + 59_000)).toBe('30 min');
    expect(formatSpan(30 * 60_000)).toBe('30 min');
    expect(formatSpan(65 * 60_000)).toBe('1 h 05 min');
    expect(formatSpan(3_600_000)).toBe('1 h');
    expect(formatSpan(2 * 86_400_000 + 3 * 3_600_000)).toBe('2 d 3 h');
    expect(formatSpan(-5)).toBe('—');
  });

  it('writes ages coarsely', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    const ago = (ms: number) => formatAge(new Date(now.getTime() - ms), now);
    expect(ago(10_000)).toBe('just now');
    expect(ago(5 * 60_000)).toBe('5m ago');
    expect(ago(3 * 3_600_000)).toBe('3h ago');
    expect(ago(2 * 86_400_000)).toBe('2d ago');
  });

  it('writes timestamps in UTC to the second', () => {
    expect(formatTimestamp(new Date('2026-11-22T02:00:05.123Z'))).toBe('2026-11-22 02:00:05 UTC');
  });

  it('draws progress bars and percentages clamped to 0..1', () => {
    expect(progressBar(0.5, 10)).toBe('█████░░░░░');
    expect(progressBar(2, 4)).toBe('████');
    expect(progressBar(-1, 4)).toBe('░░░░');
    expect(formatPercent(0.426)).toBe('42%');
  });

  it('shortens checksums and counts things', () => {
    expect(shortSha('a'.repeat(64))).toBe('a'.repeat(12));
    expect(plural(1, 'table')).toBe('1 table');
    expect(plural(1234, 'row')).toBe('1,234 rows');
    expect(plural(2, 'directory', 'directories')).toBe('2 directories');
  });
});

describe('printable and mention markers', () => {
  it('removes mention markers, so stored text can never mention anyone', () => {
    expect(printable('note \uE000slack:U012AB3CD\uE001 here')).toBe('note slack:U012AB3CD here');
    expect(displayFileName('a\uE000b\uE001c.txt')).toBe('abc.txt');
  });
});
