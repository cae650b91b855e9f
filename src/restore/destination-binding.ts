import { realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  type DestinationIdentity,
  describeIdentity,
  destinationIdentity,
  sameIdentity,
} from '../config/destination-identity.ts';
import type { LifeboatConfig, TargetConfig } from '../config/schema.ts';
import type { RestorePlan } from './plan-restore.ts';

/**
 * The identity of a target as it is now, a directory through its symlinks: the real path of
 * the deepest part that exists, with the rest (not created yet) appended.
 */
export async function realDestinationIdentity(target: TargetConfig): Promise<DestinationIdentity> {
  const identity = destinationIdentity(target);
  if (identity.kind !== 'directory') return identity;
  let existing = identity.path;
  const rest: string[] = [];
  for (;;) {
    try {
      return { kind: 'directory', path: join(await realpath(existing), ...rest.reverse()) };
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return identity;
      rest.push(basename(existing));
      existing = parent;
    }
  }
}

/**
 * The plan with what each destination resolves to now, recorded so that the restore that runs
 * later (after an approval) writes exactly what was planned and approved.
 */
export async function bindDestinations(
  plan: RestorePlan,
  config: Pick<LifeboatConfig, 'targets'>,
): Promise<RestorePlan> {
  const components = await Promise.all(
    plan.components.map(async (c) => {
      const target = config.targets[c.destination];
      return target ? { ...c, resolved: await realDestinationIdentity(target) } : c;
    }),
  );
  return { ...plan, components };
}

/** A destination that resolves elsewhere than when the restore was planned. */
export interface ChangedDestination {
  readonly component: string;
  readonly destination: string;
  readonly planned: string;
  readonly now: string;
}

/**
 * The destinations of the plan that resolve elsewhere now than when it was planned (the
 * target's URL or path was edited, or the environment variable behind it changed). A plan
 * recorded before destinations were bound has nothing to compare and yields nothing; a
 * destination no longer configured is left to the restore's own check.
 */
export async function changedDestinations(
  plan: RestorePlan,
  config: Pick<LifeboatConfig, 'targets'>,
): Promise<ChangedDestination[]> {
  const changed: ChangedDestination[] = [];
  for (const c of plan.components) {
    const target = config.targets[c.destination];
    if (!c.resolved || !target) continue;
    const now = await realDestinationIdentity(target);
    if (!sameIdentity(c.resolved, now)) {
      changed.push({
        component: c.component,
        destination: c.destination,
        planned: describeIdentity(c.resolved),
        now: describeIdentity(now),
      });
    }
  }
  return changed;
}

/** Why a restore whose destinations changed is refused, for people. */
export function changedDestinationsRefusal(changed: readonly ChangedDestination[]): string {
  const each = changed
    .map(
      (c) => `${c.destination} was ${c.planned} when the restore was asked for and is now ${c.now}`,
    )
    .join('; ');
  return `refused: ${each}. An approval covers what was approved, so nothing was changed; check the target in the configuration (and the environment variables behind it), then run /restore again to ask for a new approval`;
}
