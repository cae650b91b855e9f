import { sep } from 'node:path';
import type { ConfigIssue } from './config-issue.ts';
import { describeIdentity, destinationIdentity } from './destination-identity.ts';
import type { LifeboatConfig, TargetConfig } from './schema.ts';

interface Placed {
  readonly name: string;
  readonly target: TargetConfig;
  readonly where: string;
}

function issueFor(later: Placed, earlier: Placed, relation: 'same' | 'inside') {
  const shared =
    relation === 'same'
      ? `resolves to the same ${later.where} as "${earlier.name}"`
      : `(${later.where}) is inside "${earlier.name}" (${earlier.where})`;
  const key = later.target.kind === 'directory' ? 'path' : 'url';
  return {
    path: ['targets', later.name, key],
    message: `${shared}, which is ${earlier.target.environment} while this one is ${later.target.environment}: a restore into one would write the other without the approval and safety backup its environment asks for; point one of them elsewhere, or give both the same environment`,
  } satisfies ConfigIssue;
}

/**
 * Two target names that write the same place under different environments: the same postgres
 * server and database, the same redis server and database, or the same directory (or one inside
 * the other). Names decide nothing; what they resolve to does, so such a config is refused.
 * Linear in the number of targets (grouped by what they resolve to; directories sorted once).
 */
export function checkSharedDestinations(config: Pick<LifeboatConfig, 'targets'>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const firstAt = new Map<string, Placed>();
  const directories: Placed[] = [];
  for (const [name, target] of Object.entries(config.targets)) {
    const identity = destinationIdentity(target);
    const placed = { name, target, where: describeIdentity(identity) };
    if (identity.kind === 'directory') {
      directories.push(placed);
      continue;
    }
    const first = firstAt.get(placed.where);
    if (!first) firstAt.set(placed.where, placed);
    else if (first.target.environment !== target.environment)
      issues.push(issueFor(placed, first, 'same'));
  }
  issues.push(...nestedDirectories(directories));
  return issues;
}

/** The directory `path` of a placed directory, with a trailing separator: prefixes nest. */
function dirKey(placed: Placed): string {
  const path = placed.where.slice('directory '.length);
  return path.endsWith(sep) ? path : `${path}${sep}`;
}

/**
 * Directories sorted so that each comes right after the ones containing it; a stack holds the
 * chain of directories containing the current one (as deep as paths go, never all pairs).
 */
function nestedDirectories(directories: readonly Placed[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const sorted = directories
    .map((placed) => ({ placed, key: dirKey(placed) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const chain: { placed: Placed; key: string }[] = [];
  for (const entry of sorted) {
    while (chain.length > 0 && !entry.key.startsWith((chain.at(-1) as { key: string }).key)) {
      chain.pop();
    }
    const other = chain.findLast(
      (c) => c.placed.target.environment !== entry.placed.target.environment,
    );
    if (other) {
      const relation = other.key === entry.key ? 'same' : 'inside';
      issues.push(issueFor(entry.placed, other.placed, relation));
    }
    chain.push(entry);
  }
  return issues;
}
