import { readFileSync } from 'node:fs';

/**
 * Who owns a staging directory: this process, by its pid and, where `/proc` tells it, its start
 * time in clock ticks since boot — so that a pid reused by a later process (a restarted
 * container's worker has the same small pid every time) never passes for the owner.
 */
export function currentOwner(): string {
  return `${process.pid}.${startTicks(process.pid) ?? 'x'}`;
}

/** `<pid>.<start ticks or x>`, as {@link currentOwner} writes it. */
export const OWNER_PATTERN = /^(\d+)\.(\d+|x)$/;

/**
 * Whether the process that wrote `owner` still runs: its pid exists (EPERM: it does, as
 * another user's) and, when both start times are known, it started when the owner did.
 */
export function ownerIsAlive(owner: string): boolean {
  const match = OWNER_PATTERN.exec(owner);
  if (!match) return true;
  const pid = Number(match[1]);
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (match[2] === 'x') return true;
  const now = startTicks(pid);
  return now === undefined || now === match[2];
}

/** Field 22 of `/proc/<pid>/stat`: when the process started; undefined without `/proc`. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; fields 3… follow.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = fields[19];
    return ticks && /^\d+$/.test(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}
