import { closestMatch } from '../core/suggest.ts';
import {
  type ConfigIssue,
  type ConfigPath,
  nameValueFrom,
  type OriginAt,
  suggestionFor,
  WRITTEN_IN_FILE,
} from './config-issue.ts';
import { POLICY_ACTIONS } from './policy-actions.ts';

type Entries = Readonly<Record<string, unknown>>;

/**
 * The checks that need more than one part of the file: names that must refer to something
 * defined elsewhere, and settings that only make sense together. They read the interpolated
 * YAML rather than the parsed config so that they run, and report, even when another part of
 * the file fails the schema; a part too malformed to read is skipped here (the schema has
 * already reported it). A value made from environment variables (`originAt`) is never shown:
 * the variables are named instead, and no "did you mean" is worked out from it.
 */
export function checkCrossReferences(
  root: unknown,
  originAt: OriginAt = WRITTEN_IN_FILE,
): ConfigIssue[] {
  const config = asEntries(root);
  if (!config) return [];
  const issues: ConfigIssue[] = [];
  const report = (path: ConfigPath, message: string): void => {
    issues.push({ path, message });
  };
  const suggest = suggester();
  const unknown = (path: ConfigPath, what: string, value: string, names: readonly string[]) => {
    const origin = originAt(path);
    const close = origin ? undefined : suggest(value, names);
    report(
      path,
      `unknown ${what} ${nameValueFrom(value, origin)}; ${suggestionFor(close, what, names)}`,
    );
  };
  const named = (path: ConfigPath, value: unknown): string => nameValueFrom(value, originAt(path));

  const targets = asEntries(config.targets);
  const profiles = asEntries(config.profiles);
  const targetNames = targets ? Object.keys(targets) : undefined;
  const profileNames = profiles ? Object.keys(profiles) : undefined;
  const isTarget = new Set(targetNames);
  const isProfile = new Set(profileNames);
  const kindOf = (name: string): unknown => asEntries(targets?.[name])?.kind;

  const checkTarget = (path: ConfigPath, value: unknown): value is string => {
    if (typeof value !== 'string' || !targetNames || isTarget.has(value)) {
      return typeof value === 'string';
    }
    unknown(path, 'target', value, targetNames);
    return false;
  };
  const checkProfile = (path: ConfigPath, value: unknown): value is string => {
    if (typeof value !== 'string' || !profileNames || isProfile.has(value)) {
      return typeof value === 'string';
    }
    unknown(path, 'profile', value, profileNames);
    return false;
  };

  for (const [name, profile] of Object.entries(profiles ?? {})) {
    const seen = new Set<string>();
    asList(asEntries(profile)?.targets)?.forEach((target, index) => {
      const path = ['profiles', name, 'targets', index];
      if (!checkTarget(path, target)) return;
      if (seen.has(target)) report(path, `${named(path, target)} is listed twice`);
      seen.add(target);
    });
  }

  checkProfile(['defaultProfile'], config.defaultProfile);
  const checks = { checkProfile, checkTarget, kindOf, report, unknown, named, originAt };
  checkStorage(asEntries(config.storage), checks);
  checkApprovers(config, checks);
  checkDrills(config, checks);

  asList(asEntries(config.demo)?.targets)?.forEach((target, index) => {
    const path = ['demo', 'targets', index];
    if (!checkTarget(path, target)) return;
    const kind = kindOf(target);
    if (typeof kind === 'string' && kind !== 'postgres' && kind !== 'directory') {
      report(
        path,
        `${named(path, target)} is a ${kind} target; demo data is made for postgres and directory targets only`,
      );
    }
  });

  return issues;
}

type Report = (path: ConfigPath, message: string) => void;

interface Checks {
  readonly checkProfile: (path: ConfigPath, value: unknown) => value is string;
  readonly checkTarget: (path: ConfigPath, value: unknown) => value is string;
  readonly kindOf: (target: string) => unknown;
  readonly report: Report;
  /** `unknown role "dbx"; did you mean "dba"?` */
  readonly unknown: (
    path: ConfigPath,
    what: string,
    value: string,
    names: readonly string[],
  ) => void;
  /** The value at `path` for a message: quoted, or the variables it came from. */
  readonly named: (path: ConfigPath, value: unknown) => string;
  readonly originAt: OriginAt;
}

function checkStorage(storage: Entries | undefined, { report, named }: Checks): void {
  if (!storage) return;
  const primary = typeof storage.primary === 'string' ? storage.primary : 'local';
  const hasS3 = storage.s3 !== undefined && storage.s3 !== null;
  if (primary === 's3' && !hasS3) {
    report(['storage', 'primary'], 'the primary store is s3 but there is no storage.s3 section');
  }
  const replicas = asList(storage.replicas) ?? [];
  replicas.forEach((replica, index) => {
    const path = ['storage', 'replicas', index];
    if (replica === primary) {
      report(
        path,
        `${named(path, replica)} is already the primary store; a replica must be another store`,
      );
    } else if (replica === 's3' && !hasS3) {
      report(path, 'replica s3 needs a storage.s3 section');
    } else if (replicas.indexOf(replica) !== index) {
      report(path, `${named(path, replica)} is listed twice`);
    }
  });
}

function checkApprovers(config: Entries, { report, unknown, named }: Checks): void {
  const roles = asEntries(config.roles);
  const roleNames = roles ? Object.keys(roles) : [];
  const isRole = new Set(roleNames);
  const checkRole = (path: ConfigPath, role: unknown): void => {
    if (typeof role !== 'string' || isRole.has(role)) return;
    if (!roles) {
      report(
        path,
        `unknown role ${named(path, role)}: there is no roles section; define the role under roles`,
      );
      return;
    }
    unknown(path, 'role', role, roleNames);
  };
  asList(config.policies)?.forEach((value, policyIndex) => {
    const policy = asEntries(value);
    if (!policy) return;
    const action = policy.action;
    if (typeof action === 'string' && !(POLICY_ACTIONS as readonly string[]).includes(action)) {
      unknown(['policies', policyIndex, 'action'], 'action', action, POLICY_ACTIONS);
    }
    if (
      action === 'restore' &&
      policy.environment === 'production' &&
      typeof policy.approvals === 'number' &&
      policy.approvals < 1
    ) {
      report(
        ['policies', policyIndex, 'approvals'],
        'a restore into production needs at least one approver besides the requester (the two-person rule); for emergencies, configure breakGlass and use /restore … --break-glass REASON',
      );
    }
    asList(policy.approvers)?.forEach((role, index) => {
      checkRole(['policies', policyIndex, 'approvers', index], role);
    });
  });
  const breakGlass = asEntries(config.breakGlass);
  if (breakGlass) checkRole(['breakGlass', 'role'], breakGlass.role);
}

function checkDrills(config: Entries, checks: Checks): void {
  const { checkProfile, checkTarget, kindOf, report, unknown, named, originAt } = checks;
  const listedName = (path: ConfigPath, value: unknown): string =>
    originAt(path) ? named(path, value) : String(value);
  const members = new Map<string, ReadonlySet<unknown>>();
  const inProfile = (profile: string, listed: readonly unknown[]): ReadonlySet<unknown> => {
    let set = members.get(profile);
    if (!set) {
      set = new Set(listed);
      members.set(profile, set);
    }
    return set;
  };
  const channels = asEntries(asEntries(config.chat)?.channels) ?? {};
  const channelNames = Object.keys(channels);
  const isChannel = new Set(channelNames);
  const profiles = asEntries(config.profiles);

  for (const [name, value] of Object.entries(asEntries(config.drills) ?? {})) {
    const drill = asEntries(value);
    if (!drill) continue;
    const profile = checkProfile(['drills', name, 'profile'], drill.profile)
      ? drill.profile
      : undefined;
    const profileTargets = profile ? asList(asEntries(profiles?.[profile])?.targets) : undefined;

    asList(drill.checks)?.forEach((check, index) => {
      const path = ['drills', name, 'checks', index, 'target'];
      const target = asEntries(check)?.target;
      if (!checkTarget(path, target)) return;
      const kind = kindOf(target);
      if (typeof kind === 'string' && kind !== 'postgres') {
        report(
          path,
          `${named(path, target)} is a ${kind} target; SQL checks run on postgres targets`,
        );
      } else if (profile && profileTargets && !inProfile(profile, profileTargets).has(target)) {
        report(
          path,
          `${named(path, target)} is not in profile ${named(['drills', name, 'profile'], profile)} (${profileTargets.map((listed, index) => listedName(['profiles', profile, 'targets', index], listed)).join(', ')}); a check runs on the restored copy of one of the profile's targets`,
        );
      }
    });

    const channel = drill.channel;
    const channelPath = ['drills', name, 'channel'];
    if (typeof channel === 'string' && !isChannel.has(channel)) {
      if (channelNames.length) unknown(channelPath, 'channel', channel, channelNames);
      else
        report(
          channelPath,
          `unknown channel ${named(channelPath, channel)}; no channels are defined under chat.channels`,
        );
    }
  }
}

/**
 * The closest name to each unknown one, for "did you mean". Each answer costs a comparison with
 * every name, so a file with very many unknown names among very many names gets suggestions for
 * the first of them only (up to `SUGGESTION_BUDGET` comparisons in all): past a few typos, a list
 * of the valid names says as much.
 */
function suggester(): (value: string, names: readonly string[]) => string | undefined {
  let budget = SUGGESTION_BUDGET;
  const answers = new Map<readonly string[], Map<string, string | undefined>>();
  return (value, names) => {
    let known = answers.get(names);
    if (!known) {
      known = new Map();
      answers.set(names, known);
    }
    if (known.has(value)) return known.get(value);
    if (budget < names.length) return undefined;
    budget -= names.length;
    const answer = closestMatch(value, names);
    known.set(value, answer);
    return answer;
  };
}

const SUGGESTION_BUDGET = 1_000_000;

function asEntries(value: unknown): Entries | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Entries)
    : undefined;
}

function asList(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}
