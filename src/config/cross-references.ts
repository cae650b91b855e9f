import { closestMatch } from '../core/suggest.ts';
import { type ConfigIssue, type ConfigPath, suggestionFor } from './config-issue.ts';
import { POLICY_ACTIONS } from './policy-actions.ts';

type Entries = Readonly<Record<string, unknown>>;

/**
 * The checks that need more than one part of the file: names that must refer to something
 * defined elsewhere, and settings that only make sense together. They read the interpolated
 * YAML rather than the parsed config so that they run, and report, even when another part of
 * the file fails the schema; a part too malformed to read is skipped here (the schema has
 * already reported it).
 */
export function checkCrossReferences(root: unknown): ConfigIssue[] {
  const config = asEntries(root);
  if (!config) return [];
  const issues: ConfigIssue[] = [];
  const report = (path: ConfigPath, message: string): void => {
    issues.push({ path, message });
  };

  const targets = asEntries(config.targets);
  const profiles = asEntries(config.profiles);
  const targetNames = targets ? Object.keys(targets) : undefined;
  const profileNames = profiles ? Object.keys(profiles) : undefined;
  const kindOf = (name: string): unknown => asEntries(targets?.[name])?.kind;

  const checkTarget = (path: ConfigPath, value: unknown): value is string => {
    if (typeof value !== 'string' || !targetNames || targetNames.includes(value)) {
      return typeof value === 'string';
    }
    const hint = suggestionFor(closestMatch(value, targetNames), 'target', targetNames);
    report(path, `unknown target "${value}"; ${hint}`);
    return false;
  };
  const checkProfile = (path: ConfigPath, value: unknown): value is string => {
    if (typeof value !== 'string' || !profileNames || profileNames.includes(value)) {
      return typeof value === 'string';
    }
    const hint = suggestionFor(closestMatch(value, profileNames), 'profile', profileNames);
    report(path, `unknown profile "${value}"; ${hint}`);
    return false;
  };

  for (const [name, profile] of Object.entries(profiles ?? {})) {
    const listed = asList(asEntries(profile)?.targets) ?? [];
    listed.forEach((target, index) => {
      const path = ['profiles', name, 'targets', index];
      if (!checkTarget(path, target)) return;
      if (listed.indexOf(target) !== index) report(path, `"${target}" is listed twice`);
    });
  }

  checkProfile(['defaultProfile'], config.defaultProfile);
  checkStorage(asEntries(config.storage), report);
  checkApprovers(config, report);
  checkDrills(config, { checkProfile, checkTarget, kindOf, report });

  asList(asEntries(config.demo)?.targets)?.forEach((target, index) => {
    const path = ['demo', 'targets', index];
    if (!checkTarget(path, target)) return;
    const kind = kindOf(target);
    if (typeof kind === 'string' && kind !== 'postgres' && kind !== 'directory') {
      report(
        path,
        `"${target}" is a ${kind} target; demo data is made for postgres and directory targets only`,
      );
    }
  });

  return issues;
}

type Report = (path: ConfigPath, message: string) => void;

function checkStorage(storage: Entries | undefined, report: Report): void {
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
      report(path, `"${replica}" is already the primary store; a replica must be another store`);
    } else if (replica === 's3' && !hasS3) {
      report(path, 'replica s3 needs a storage.s3 section');
    } else if (replicas.indexOf(replica) !== index) {
      report(path, `"${String(replica)}" is listed twice`);
    }
  });
}

function checkApprovers(config: Entries, report: Report): void {
  const roles = asEntries(config.roles);
  const roleNames = roles ? Object.keys(roles) : [];
  const checkRole = (path: ConfigPath, role: unknown): void => {
    if (typeof role !== 'string' || roleNames.includes(role)) return;
    if (!roles) {
      report(
        path,
        `unknown role "${role}": there is no roles section; define the role under roles`,
      );
      return;
    }
    const hint = suggestionFor(closestMatch(role, roleNames), 'role', roleNames);
    report(path, `unknown role "${role}"; ${hint}`);
  };
  asList(config.policies)?.forEach((value, policyIndex) => {
    const policy = asEntries(value);
    if (!policy) return;
    const action = policy.action;
    if (typeof action === 'string' && !(POLICY_ACTIONS as readonly string[]).includes(action)) {
      const hint = suggestionFor(closestMatch(action, POLICY_ACTIONS), 'action', POLICY_ACTIONS);
      report(['policies', policyIndex, 'action'], `unknown action "${action}"; ${hint}`);
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

interface DrillChecks {
  readonly checkProfile: (path: ConfigPath, value: unknown) => value is string;
  readonly checkTarget: (path: ConfigPath, value: unknown) => value is string;
  readonly kindOf: (target: string) => unknown;
  readonly report: Report;
}

function checkDrills(config: Entries, checks: DrillChecks): void {
  const { checkProfile, checkTarget, kindOf, report } = checks;
  const channels = asEntries(asEntries(config.chat)?.channels) ?? {};
  const channelNames = Object.keys(channels);
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
        report(path, `"${target}" is a ${kind} target; SQL checks run on postgres targets`);
      } else if (profile && profileTargets && !profileTargets.includes(target)) {
        report(
          path,
          `"${target}" is not in profile "${profile}" (${profileTargets.join(', ')}); a check runs on the restored copy of one of the profile's targets`,
        );
      }
    });

    const channel = drill.channel;
    if (typeof channel === 'string' && !channelNames.includes(channel)) {
      const hint = channelNames.length
        ? suggestionFor(closestMatch(channel, channelNames), 'channel', channelNames)
        : 'no channels are defined under chat.channels';
      report(['drills', name, 'channel'], `unknown channel "${channel}"; ${hint}`);
    }
  }
}

function asEntries(value: unknown): Entries | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Entries)
    : undefined;
}

function asList(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}
