import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { POLICY_ACTIONS } from '../../../src/config/policy-actions.ts';

describe('the actions a policy can name', () => {
  it('are actions of commands that change something', () => {
    const gated = new Set(commands.filter((c) => c.gated).map((c) => c.action));
    for (const action of POLICY_ACTIONS) expect(gated).toContain(action);
  });

  it('cover every changing command but the approval and runbook-step machinery', () => {
    const machinery = /^(approve|reject|runbook\.(done|skip|run|abort|check))$/;
    const changing = commands
      .filter((c) => c.gated && !machinery.test(c.action))
      .map((c) => c.action)
      .sort();
    expect([...POLICY_ACTIONS].sort()).toEqual(changing);
  });
});
