import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../commands/index.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { lintRunbook } from '../../../src/runbook/lint-runbook.ts';
import { listRunbooks } from '../../../src/runbook/load-runbooks.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('the shipped runbooks', () => {
  it('are the seven the README lists, and lint clean against the shipped lifeboat.yaml', async () => {
    const { config } = loadConfig({ path: 'lifeboat.yaml', cwd: ROOT, env: {} });
    const runbooks = await listRunbooks(config.runbooks.path);
    expect(runbooks.map((r) => r.name)).toEqual([
      'backup-failure-triage',
      'database-recovery',
      'emergency-restore',
      'full-system-recovery',
      'monthly-restore-test',
      'quarterly-dr-drill',
      'selective-restore',
    ]);
    for (const runbook of runbooks) {
      expect(lintRunbook(runbook, { commands, config }), runbook.name).toEqual([]);
      expect(runbook.steps.length, runbook.name).toBeGreaterThan(2);
    }
  });

  it('restore production in emergency-restore only after staging and a gate', async () => {
    const { config } = loadConfig({ path: 'lifeboat.yaml', cwd: ROOT, env: {} });
    const runbooks = await listRunbooks(config.runbooks.path);
    const emergency = runbooks.find((r) => r.name === 'emergency-restore');
    const kinds = (emergency?.steps ?? []).flatMap((s) =>
      s.parts
        .filter((p) => p.kind === 'gate' || (p.kind === 'command' && p.text.startsWith('/restore')))
        .map((p) =>
          p.kind === 'command' ? (p.text.includes('--into') ? 'staging' : 'production') : 'gate',
        ),
    );
    expect(kinds).toEqual(['staging', 'gate', 'production']);
  });
});
