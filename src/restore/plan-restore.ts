import { requirementFor } from '../approvals/policy.ts';
import type { Manifest, ManifestComponent } from '../backup/manifest.ts';
import type { DestinationIdentity } from '../config/destination-identity.ts';
import type { Environment, LifeboatConfig, TargetConfig } from '../config/schema.ts';
import { CommandError } from '../core/errors.ts';
import { closestMatch } from '../core/suggest.ts';
import type { RestoreDestination } from './component-restorer.ts';

/** What the person asked for besides the backup: `--components` and `--into`. */
export interface RestoreSelection {
  /** Only these components of the backup. @defaultValue all of them */
  readonly components?: readonly string[];
  /** Component → configured target to restore it into instead of its origin. */
  readonly into?: Readonly<Record<string, string>>;
}

/** One component of a restore plan and where it goes. */
export interface PlannedComponent {
  /** The component's name in the backup (its origin target). */
  readonly component: string;
  readonly kind: ManifestComponent['kind'];
  /** The configured target it is restored into. */
  readonly destination: string;
  readonly environment: Environment;
  /** True when `--into` sent it somewhere other than its origin. */
  readonly redirected: boolean;
  /** Stored bytes to read. */
  readonly bytes: number;
  /** Bytes after decryption and decompression: what is staged and restored. */
  readonly rawBytes: number;
  readonly encrypted: boolean;
  /** Whether this destination needs a second person's approval (see {@link needsApproval}). */
  readonly needsApproval: boolean;
  /** What the restore will do to the destination, for people (the restorer's `describe`). */
  readonly actions: readonly string[];
  /**
   * What the destination resolved to when the restore was planned (host, port and database;
   * the real path; never a password): the restore refuses to run if it resolves elsewhere by
   * then. Absent in plans recorded before 0.4, and before `bindDestinations`.
   */
  readonly resolved?: DestinationIdentity;
}

/** A restore worked out before anything runs: the dry-run shows it, the job carries it out. */
export interface RestorePlan {
  readonly backupId: string;
  readonly profile: string;
  /** When the backup finished: the age of the data a restore brings back. */
  readonly backupFinishedAt: string;
  readonly components: readonly PlannedComponent[];
  /** True when any destination needs approval. */
  readonly needsApproval: boolean;
}

export interface PlanRestoreInput {
  readonly manifest: Manifest;
  readonly config: Pick<LifeboatConfig, 'targets' | 'policies'>;
  readonly selection: RestoreSelection;
  /** The restorer's description of a component restored into a destination. @defaultValue none */
  readonly describe?: (component: ManifestComponent, destination: RestoreDestination) => string[];
}

/**
 * Works out which components of a backup go into which configured targets. A component goes
 * back into its origin (the target of the same name) unless `--into` sends it into another
 * target, which must be of the same kind.
 *
 * @throws CommandError naming what was wrong and listing what is valid: a component the backup
 * does not hold, an unknown target, a target of another kind, two components into one target,
 * an origin that is no longer configured.
 */
export function planRestore(input: PlanRestoreInput): RestorePlan {
  const { manifest, config, selection } = input;
  const byName = new Map(manifest.components.map((c) => [c.name, c]));
  const held = manifest.components.map((c) => c.name);

  const requested = selection.components ?? held;
  for (const name of requested) {
    if (!byName.has(name)) throw notInBackup(manifest, name, held);
  }
  const chosen = [...new Set(requested)];
  const into = selection.into ?? {};
  for (const [name, target] of Object.entries(into)) {
    if (!byName.has(name)) throw notInBackup(manifest, name, held);
    if (!chosen.includes(name)) {
      throw new CommandError(
        'restore_into_not_selected',
        `--into ${name}=${target} names a component that --components leaves out; components chosen: ${chosen.join(', ')}`,
      );
    }
  }

  const destinations = new Map<string, string>();
  const components = chosen.map((name): PlannedComponent => {
    const component = byName.get(name) as ManifestComponent;
    const redirected = Object.hasOwn(into, name);
    const destination = redirected ? (into[name] as string) : name;
    const target = resolveTarget(config, component, destination, redirected);
    const other = destinations.get(destination);
    if (other !== undefined) {
      throw new CommandError(
        'restore_destination_twice',
        `${other} and ${name} would both be restored into ${destination}; send one elsewhere with --into, or restore them one at a time`,
      );
    }
    destinations.set(destination, name);
    const approval = needsApproval(config, target.environment);
    return {
      component: name,
      kind: component.kind,
      destination,
      environment: target.environment,
      redirected,
      bytes: component.bytes,
      rawBytes: component.rawBytes,
      encrypted: component.encryption !== null,
      needsApproval: approval,
      actions: input.describe?.(component, { name: destination, config: target }) ?? [],
    };
  });

  return {
    backupId: manifest.id,
    profile: manifest.profile,
    backupFinishedAt: manifest.finishedAt,
    components,
    needsApproval: components.some((c) => c.needsApproval),
  };
}

/**
 * Whether restoring into a target of this environment needs a second person under the config's
 * policies (see `requirementFor`): always for `production` (the two-person rule), and for any
 * environment a `restore` policy covers with at least one approval.
 */
export function needsApproval(
  config: Pick<LifeboatConfig, 'policies'>,
  environment: Environment,
): boolean {
  return requirementFor(config, 'restore', [environment]) !== null;
}

/**
 * Why the plan cannot be queued without an approval, for people, or null when it can: the safety
 * net behind `/restore`, which turns such a plan into an approval request before it gets here.
 */
export function approvalRefusal(
  plan: RestorePlan,
  config: Pick<LifeboatConfig, 'targets' | 'policies'>,
): string | null {
  const gated = plan.components.filter((c) => needsApproval(config, c.environment));
  if (gated.length === 0) return null;
  const named = gated.map((c) => `${c.destination} (${c.environment})`).join(', ');
  const first = gated[0] as PlannedComponent;
  const alternative = Object.entries(config.targets).find(
    ([name, target]) =>
      target.kind === first.kind &&
      name !== first.destination &&
      !needsApproval(config, target.environment),
  )?.[0];
  const how = alternative
    ? `, or restore into a target that needs none with --into ${first.component}=${alternative}`
    : '';
  return `Restoring into ${named} needs a second person's approval: \`/restore\` posts an approval request for it${how}.`;
}

/** The destination as the restorer sees it. */
export function destinationOf(
  config: Pick<LifeboatConfig, 'targets'>,
  planned: PlannedComponent,
): RestoreDestination {
  const target = config.targets[planned.destination];
  if (!target) {
    throw new CommandError(
      'unknown_target',
      `the target ${planned.destination} is no longer in the configuration; targets: ${Object.keys(config.targets).join(', ')}`,
    );
  }
  return { name: planned.destination, config: target };
}

function resolveTarget(
  config: Pick<LifeboatConfig, 'targets'>,
  component: ManifestComponent,
  destination: string,
  redirected: boolean,
): TargetConfig {
  const sameKind = Object.entries(config.targets)
    .filter(([, t]) => t.kind === component.kind)
    .map(([name]) => name);
  const choices = sameKind.length > 0 ? sameKind.join(', ') : `none are configured`;
  // Own keys only: `constructor` or `__proto__` is an unknown target, not Object's.
  const target = Object.hasOwn(config.targets, destination)
    ? config.targets[destination]
    : undefined;
  if (!target) {
    if (!redirected) {
      throw new CommandError(
        'restore_origin_missing',
        `${component.name} has no configured target of that name any more; restore it elsewhere with --into ${component.name}=TARGET; ${component.kind} targets: ${choices}`,
      );
    }
    const close = closestMatch(destination, Object.keys(config.targets));
    const hint = close ? `did you mean "${close}"? ` : '';
    throw new CommandError(
      'unknown_target',
      `unknown target "${destination}" in --into ${component.name}=${destination}; ${hint}${component.kind} targets: ${choices}`,
    );
  }
  if (target.kind !== component.kind) {
    const flag = redirected ? `--into ${component.name}=${destination}` : 'its origin';
    throw new CommandError(
      'restore_kind_mismatch',
      `${component.name} is a ${component.kind} backup and ${destination} (${flag}) is a ${target.kind} target; ${component.kind} targets: ${choices}`,
    );
  }
  return target;
}

function notInBackup(manifest: Manifest, name: string, held: readonly string[]): CommandError {
  const close = closestMatch(name, held);
  const hint = close ? `did you mean "${close}"? ` : '';
  return new CommandError(
    'restore_unknown_component',
    `backup ${manifest.id} has no component "${name}"; ${hint}its components: ${held.join(', ')}`,
  );
}
