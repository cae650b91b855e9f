/** Formatting of sizes, durations, rates and progress for people reading chat. */

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `0 B`, `512 B`, `12.3 MiB` (binary units, one decimal). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
  let value = bytes;
  let unit = 'B';
  for (const next of UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** `5.1 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** `850 ms`, `12.3 s`, `4m 05s`, `2h 03m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600) % 24;
  const d = Math.floor(total / 86400);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

/**
 * A span people plan with, to the nearest minute past a minute: `45 s`, `30 min`, `1 h 05 min`,
 * `2 d 3 h`. For expiries and windows, where seconds are noise.
 */
export function formatSpan(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 59_500) return `${Math.round(ms / 1000)} s`;
  const minutes = Math.max(1, Math.round(ms / 60_000));
  const m = minutes % 60;
  const h = Math.floor(minutes / 60) % 24;
  const d = Math.floor(minutes / 1440);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${h} h`;
  return `${m} min`;
}

/** How long ago `then` was, coarsely: `just now`, `5m ago`, `3h ago`, `2d ago`. */
export function formatAge(then: Date, now: Date): string {
  const seconds = Math.floor((now.getTime() - then.getTime()) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

/** `2026-11-22 02:00:00 UTC`. */
export function formatTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `42%`, clamped to 0..100. */
export function formatPercent(fraction: number): string {
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/** A text progress bar for renderers without a native one: `██████░░░░`. */
export function progressBar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** The first 12 hex digits of a sha256, enough to tell backups apart at a glance. */
export function shortSha(sha256: string, length = 12): string {
  return sha256.slice(0, length);
}

/** `1,234,567`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `1 table`, `3 tables`. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : pluralForm}`;
}

/**
 * Characters that can forge what people read: C0 and C1 controls and DEL (a newline starts a
 * line that looks like Lifeboat's, ESC drives the terminal), the Unicode line and paragraph
 * separators, and the bidirectional overrides and isolates that reorder what follows.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * The two private-use characters that mark a mention in a chat message (`src/chat/mention.ts`):
 * text from outside must never carry them, or it could mention, and ping, anyone.
 */
export const MENTION_MARKERS = /[\uE000\uE001]/g;

/** Text with the mention markers removed, so it can never turn into a mention. */
export function withoutMentionMarkers(text: string): string {
  return text.replace(MENTION_MARKERS, '');
}

/**
 * Text that came from storage or the catalog (object and file names, manifest fields, table
 * names, tool output), made safe to show: every character of {@link UNPRINTABLE} is written as
 * an escape (`\n`, `\x1b`, `\u2028`), so a crafted manifest cannot forge output lines or
 * terminal sequences. Mention markers are removed, so it cannot mention anyone either.
 * Everything else, other languages and symbols included, is kept. The one helper every view
 * passes such text through.
 */
export function printable(text: string): string {
  return withoutMentionMarkers(text).replace(UNPRINTABLE, (char) => {
    const named = NAMED_ESCAPES[char];
    if (named) return named;
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
