/**
 * The actions a policy can name: every command that changes something, by the action name its
 * command declares (`CommandSpec.action`). A test keeps this list and the grammar in step.
 */
export const POLICY_ACTIONS = [
  'backup.create',
  'backup.verify',
  'backup.prune',
  'restore',
  'drill.run',
  'runbook.start',
] as const;

export type PolicyAction = (typeof POLICY_ACTIONS)[number];
