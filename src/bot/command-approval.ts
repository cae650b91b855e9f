import type { Approvals } from '../approvals/approvals-service.ts';
import { resolveProfile } from '../config/profiles.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import type { CommandSpec, ParsedArgs } from '../core/command-grammar.ts';
import { backupIdProfile } from '../core/ids.ts';
import type { ApprovalNeed } from './approval-flow.ts';

/**
 * Commands that settle approval themselves (a restore judges its planned destinations) or are
 * the approval machinery.
 */
const SELF_JUDGED = new Set(['restore', 'approve', 'reject', 'approvals.list']);

/**
 * The environments a command touches, for policies with an `environment`: those of the targets
 * of the profile it acts on, of every profile for a prune of all of them, of a drill's profile.
 * Anything else is judged on every environment the config has, the cautious choice.
 */
export function commandEnvironments(
  action: string,
  args: ParsedArgs,
  config: LifeboatConfig,
): string[] {
  const environmentsOf = (profiles: readonly string[]) => [
    ...new Set(
      profiles.flatMap((p) =>
        (config.profiles[p]?.targets ?? []).flatMap((t) => config.targets[t]?.environment ?? []),
      ),
    ),
  ];
  const profile = typeof args.profile === 'string' ? args.profile : undefined;
  switch (action) {
    case 'backup.create':
      return environmentsOf([resolveProfile(config, profile)]);
    case 'backup.verify': {
      // An explicit id names its backup, and so its profile: it needs no --profile.
      const id = typeof args.backup === 'string' && args.backup !== 'latest' ? args.backup : null;
      if (id === null) return environmentsOf([resolveProfile(config, profile)]);
      const own = backupIdProfile(id);
      return own !== undefined && config.profiles[own]
        ? environmentsOf([own])
        : [...new Set(Object.values(config.targets).map((t) => t.environment))];
    }
    case 'backup.prune':
      return environmentsOf(profile ? [profile] : Object.keys(config.profiles));
    case 'drill.run': {
      const drill = typeof args.drill === 'string' ? config.drills[args.drill] : undefined;
      return drill ? environmentsOf([drill.profile]) : ['scratch'];
    }
    default:
      return [...new Set(Object.values(config.targets).map((t) => t.environment))];
  }
}

/**
 * Whether a policy asks for a second person before this command (typed as `text`) runs, and
 * what the request would hold: the text, run again as the requester once approved. Dry runs
 * change nothing and read-only commands are never gated.
 */
export function commandApprovalNeed(
  command: CommandSpec,
  args: ParsedArgs,
  text: string,
  config: LifeboatConfig,
  approvals: Pick<Approvals, 'requirement'>,
): ApprovalNeed | null {
  if (!command.gated || SELF_JUDGED.has(command.action) || args.dryRun === true) return null;
  const environments = commandEnvironments(command.action, args, config);
  const requirement = approvals.requirement(command.action, environments);
  if (!requirement) return null;
  return {
    action: command.action,
    payload: { type: 'command', text },
    environments,
    requirement,
    command: text,
  };
}
