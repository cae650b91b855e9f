import type { ComponentWarning } from '../manifest.ts';

/** Notices kept per component; a tool that says more is summed up. */
const MAX_NOTICES = 20;

/**
 * What `pg_dump` said on stderr in a run that succeeded, as notices: it writes nothing there
 * unless it has a warning (circular foreign keys in a data-only dump, …), and a `detail:` or
 * `hint:` line belongs to the warning before it.
 */
export function pgDumpNotices(lines: readonly string[]): ComponentWarning[] {
  const notices: string[] = [];
  for (const line of lines) {
    const text = line.trim();
    if (text === '') continue;
    const continues = /^pg_dump: (detail|hint): /.test(text) && notices.length > 0;
    if (continues) notices[notices.length - 1] += ` ${text.replace(/^pg_dump: /, '')}`;
    else notices.push(text);
  }
  return bounded(notices);
}

/** The lines `redis-cli --rdb` always prints while it transfers a snapshot. */
const REDIS_CLI_PROGRESS = [
  /^sending REPLCONF /,
  /^SYNC sent to master/,
  /^Transfer finished with success/,
];

/** What `redis-cli --rdb` said on stderr besides its progress, as notices. */
export function redisCliNotices(lines: readonly string[]): ComponentWarning[] {
  return bounded(
    lines
      .map((line) => line.trim())
      .filter((line) => line !== '' && !REDIS_CLI_PROGRESS.some((p) => p.test(line))),
  );
}

function bounded(messages: readonly string[]): ComponentWarning[] {
  const kept = messages.slice(0, MAX_NOTICES);
  const rest = messages.length - kept.length;
  if (rest > 0) kept.push(`… and ${rest} more lines like these`);
  return kept.map((message) => ({ kind: 'notice', message }));
}
